"""A stand-in for the few pieces of the Conan 2 API that labelgraph's recipe and
test_package use, so that tests/package/emulate_conan.py can run the real
recipe code without Conan (which cannot be installed here). Each piece does
what Conan 2 documents for it, reduced to a single Linux host build; the
dependencies themselves come from the system instead of Conan packages."""


class ConanFile:
    """Base of a recipe. The emulator fills in folders, options and settings."""

    name = None
    version = None
    settings = ()
    options = {}
    default_options = {}
    exports_sources = ()
    package_type = None
    test_type = None

    def __init__(self):
        from conan.internal import Cpp, CppInfo, Folders, Info

        self.folders = Folders()
        self.cpp = Cpp()
        self.cpp_info = CppInfo()
        self.info = Info()
        self.requirements_declared = []
        self.dependencies = {}
        self.tested_reference_str = None
        self.commands_run = []

    def requires(self, reference, **traits):
        # Conan 2 refuses a second requirement of the same package name.
        from conan.errors import ConanException

        name = reference.split("/")[0]
        if any(declared.split("/")[0] == name for declared, _ in self.requirements_declared):
            raise ConanException(f"Duplicated requirement: {reference}")
        self.requirements_declared.append((reference, traits))

    # Folders, as Conan 2 exposes them (absolute paths).
    @property
    def source_folder(self):
        return self.folders.absolute("source")

    @property
    def build_folder(self):
        return self.folders.absolute("build")

    @property
    def generators_folder(self):
        return self.folders.absolute("generators")

    @property
    def package_folder(self):
        return self.folders.package_folder

    @property
    def recipe_folder(self):
        return self.folders.recipe_folder

    def run(self, command, env=None, cwd=None):
        import subprocess

        del env  # the emulator's environment is the run environment
        print(f"[conan emulation] run: {command}", flush=True)
        self.commands_run.append(command)
        subprocess.run(command, shell=True, check=True, cwd=cwd or self.build_folder)
