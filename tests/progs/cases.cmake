# The native-vs-x86run cases registered with CTest: only those that pass
# under the current translator (FINDINGS.md lists the others).
