"""CMakeToolchain / CMakeDeps / CMake / cmake_layout as Conan 2 does them, for a
single-configuration Linux build. The emulator sets `EMULATION` first."""

import os
import subprocess

EMULATION = {"cmake": "cmake", "generator": "Unix Makefiles", "cxx_compiler": None}


def cmake_layout(conanfile, generator=None, src_folder=".", build_folder="build"):
    del generator
    build_type = str(conanfile.settings.get_safe("build_type"))
    conanfile.folders.source = src_folder
    conanfile.folders.build = os.path.join(build_folder, build_type)
    conanfile.folders.generators = os.path.join(build_folder, build_type, "generators")
    conanfile.cpp.build.bindirs = ["."]
    conanfile.cpp.build.libdirs = ["."]


def _cmake_value(value):
    if isinstance(value, bool):
        return ("ON" if value else "OFF"), "BOOL"
    return str(value), "STRING"


class CMakeToolchain:
    filename = "conan_toolchain.cmake"

    def __init__(self, conanfile):
        self._conanfile = conanfile
        self.variables = {}
        self.cache_variables = {}

    def generate(self):
        conanfile = self._conanfile
        lines = ["# conan_toolchain.cmake written by the Conan emulation of tests/package"]
        if EMULATION["cxx_compiler"]:
            lines.append(f'set(CMAKE_CXX_COMPILER "{EMULATION["cxx_compiler"]}")')
        cppstd = conanfile.settings.get_safe("compiler.cppstd")
        if cppstd:
            lines.append(f'set(CMAKE_CXX_STANDARD {str(cppstd).replace("gnu", "")})')
            lines.append(f'set(CMAKE_CXX_EXTENSIONS {"ON" if str(cppstd).startswith("gnu") else "OFF"})')
        lines.append("set(CMAKE_FIND_PACKAGE_PREFER_CONFIG ON)")
        # Conan 2: the builddirs of host dependencies, then the generators folder, go first in CMAKE_PREFIX_PATH.
        prefixes = []
        for dependency in conanfile.dependencies.values():
            for builddir in dependency.cpp_info.builddirs:
                prefixes.append(os.path.join(dependency.package_folder, builddir).replace("\\", "/"))
        prefixes.append(conanfile.generators_folder)
        lines.append("list(PREPEND CMAKE_PREFIX_PATH " + " ".join(f'"{p}"' for p in prefixes) + ")")
        for name, value in {**self.variables, **self.cache_variables}.items():
            text, kind = _cmake_value(value)
            lines.append(f'set({name} "{text}" CACHE {kind} "Variable {name} conan-toolchain defined" FORCE)')
        os.makedirs(conanfile.generators_folder, exist_ok=True)
        with open(os.path.join(conanfile.generators_folder, self.filename), "w", encoding="utf-8") as file:
            file.write("\n".join(lines) + "\n")


class CMakeDeps:
    """Conan would write <Dep>Config.cmake files here; in the emulation the
    dependencies are the system's packages, which CMake finds by itself."""

    def __init__(self, conanfile):
        self._conanfile = conanfile

    def generate(self):
        os.makedirs(self._conanfile.generators_folder, exist_ok=True)


class CMake:
    def __init__(self, conanfile):
        self._conanfile = conanfile

    def _run(self, arguments):
        print("[conan emulation] " + " ".join(arguments), flush=True)
        subprocess.run(arguments, check=True)

    def configure(self, variables=None, build_script_folder=None):
        conanfile = self._conanfile
        source = conanfile.source_folder
        if build_script_folder:
            source = os.path.join(source, build_script_folder)
        arguments = [EMULATION["cmake"], "-G", EMULATION["generator"],
                     f"-DCMAKE_TOOLCHAIN_FILE={os.path.join(conanfile.generators_folder, CMakeToolchain.filename)}",
                     "-DCMAKE_POLICY_DEFAULT_CMP0091=NEW",
                     f"-DCMAKE_BUILD_TYPE={conanfile.settings.get_safe('build_type')}"]
        if conanfile.package_folder:
            arguments.append(f"-DCMAKE_INSTALL_PREFIX={conanfile.package_folder}")
        for name, value in (variables or {}).items():
            arguments.append(f"-D{name}={_cmake_value(value)[0]}")
        arguments += ["-S", source, "-B", conanfile.build_folder]
        self._run(arguments)

    def build(self, target=None):
        arguments = [EMULATION["cmake"], "--build", self._conanfile.build_folder]
        if target:
            arguments += ["--target", target]
        self._run(arguments)

    def install(self):
        self._run([EMULATION["cmake"], "--install", self._conanfile.build_folder,
                   "--prefix", self._conanfile.package_folder])
