"""The smallest dsbuild example: a Python script that says hello.

Build it into an image and run it:

    dsbuild build examples/hello -o oci:/tmp/hello:latest --cmd 'python3 main.py'
    podman run --rm oci:/tmp/hello:latest
"""

import os
import platform
import sys


def greeting(name: str) -> str:
    return f"hello, {name}, from Python {platform.python_version()}"


def main() -> int:
    name = sys.argv[1] if len(sys.argv) > 1 else os.environ.get("HELLO_NAME", "world")
    print(greeting(name))
    print(f"running in {os.getcwd()} as uid {os.getuid()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
