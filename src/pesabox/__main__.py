from pesabox.cli.main import main

main()
