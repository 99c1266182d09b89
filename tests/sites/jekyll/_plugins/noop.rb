# a Jekyll plugin: never run
