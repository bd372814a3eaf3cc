from powercast.cli import main

main()
