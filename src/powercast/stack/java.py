"""Finds Java and Maven, and says clearly what to install when they are missing."""

from __future__ import annotations

import os
import re
import shutil
import subprocess

from powercast.errors import PowercastError

MIN_JAVA = 17


def java_executable() -> str:
    java_home = os.environ.get("JAVA_HOME")
    candidate = os.path.join(java_home, "bin", "java") if java_home else shutil.which("java")
    if not candidate or not os.path.exists(candidate):
        raise PowercastError(
            "Java not found (Kafka needs Java 17 or newer)",
            "install OpenJDK 17 (Debian/Ubuntu: apt-get install openjdk-17-jre-headless) or set JAVA_HOME",
        )
    version = subprocess.run([candidate, "-version"], capture_output=True, text=True).stderr  # noqa: S603 - argv list without a shell; the Java found on JAVA_HOME or PATH
    match = re.search(r'version "(\d+)(?:\.(\d+))?', version)
    major = int(match.group(1)) if match else 0
    if major == 1 and match and match.group(2):  # "1.8.0" style
        major = int(match.group(2))
    if major < MIN_JAVA:
        raise PowercastError(
            f"Java {major or '?'} found at {candidate}, Kafka 4 needs Java {MIN_JAVA}+",
            "install OpenJDK 17 or newer (Debian/Ubuntu: apt-get install openjdk-17-jre-headless), "
            "or point JAVA_HOME at one",
        )
    return candidate


def maven_executable() -> str:
    mvn = shutil.which("mvn")
    if not mvn:
        raise PowercastError(
            "Maven not found (it fetches Kafka's jars from Maven Central)",
            "install Maven (Debian/Ubuntu: apt-get install maven)",
        )
    return mvn
