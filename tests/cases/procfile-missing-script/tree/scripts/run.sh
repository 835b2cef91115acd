#!/bin/sh
echo "the script is here, not at ./run.sh"
