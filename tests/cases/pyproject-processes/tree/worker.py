import sys

print("working on", sys.argv[1:])
