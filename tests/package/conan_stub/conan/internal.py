"""Data holders of the Conan stand-in (folders, cpp_info, package info)."""

import os
from collections import defaultdict


class Folders:
    def __init__(self):
        self.base = {}           # "source" / "build" / "generators" -> absolute base folder
        self.source = ""         # relative, as layout() sets them
        self.build = ""
        self.generators = ""
        self.package_folder = None
        self.recipe_folder = None

    def absolute(self, which):
        return os.path.normpath(os.path.join(self.base[which], getattr(self, which)))


class CppInfoComponent:
    def __init__(self):
        self.requires = []
        self.includedirs = ["include"]
        self.libdirs = ["lib"]
        self.bindirs = ["bin"]
        self.builddirs = []
        self.defines = []
        self.properties = {}

    def set_property(self, name, value):
        self.properties[name] = value


class CppInfo(CppInfoComponent):
    def __init__(self):
        super().__init__()
        self.components = defaultdict(CppInfoComponent)


class BuildLayout:
    def __init__(self):
        self.bindirs = ["."]
        self.libdirs = ["."]

    @property
    def bindir(self):
        return self.bindirs[0]


class Cpp:
    def __init__(self):
        self.build = BuildLayout()


class Info:
    """`self.info` in package_id(): records whether the recipe cleared it."""

    def __init__(self):
        self.cleared = False

    def clear(self):
        self.cleared = True
