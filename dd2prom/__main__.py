from dd2prom.cli import main

main()
