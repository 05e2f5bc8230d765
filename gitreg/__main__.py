from gitreg.cli.app import main

main()
