"""The ground floor: what is true of AWS Lambda and of this plugin's artifacts, as plain data.

The runtimes and their Pythons, the architectures, the paths a runtime unpacks code to, the
quotas, the re-exported handler's names and the manylinux aliases live here, each in one place.
Modules here import the standard library and `packaging` only: nothing of Pants, nothing of the
rest of the plugin, which all builds on them (see "Floors" in the backend's README).
"""
