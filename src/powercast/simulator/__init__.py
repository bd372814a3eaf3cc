"""The sensor simulator: a fleet of machines, their physics and anomalies, published to Kafka.

`fleet` (machines), `schedule` (production plans), `physics` (sensor models), `anomalies`, `engine`
(`FleetSimulator`: any time range as arrays) are pure computation; `encoding`, `producer`, `publish`,
`control` and `machines_db` deal with the outside world.
"""
