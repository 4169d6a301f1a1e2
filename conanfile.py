"""Conan 2 recipe of labelgraph, a header-only C++20 library.

    conan create . -o "labelgraph/*:with_cpu=True" -o "labelgraph/*:with_xtensor=True" \
                   -s compiler.cppstd=20

One option per backend; each pulls in that backend's requirements and makes
the project's own CMake configuration require them (CMAKE_REQUIRE_FIND_PACKAGE_*)
or ignore them (CMAKE_DISABLE_FIND_PACKAGE_*). The package is the project's
`cmake --install` tree: headers, share/labelgraph/labelgraphConfig.cmake with
the components cpu / xtensor / cuda, and share/pkgconfig/labelgraph.pc.
CMake consumers get that config file (cmake_find_mode "none" + builddirs), so
`find_package(labelgraph CONFIG REQUIRED COMPONENTS cpu)` behaves exactly as
with any other installation; other generators use the components below.

Tested without Conan by tests/package (package.conan_recipe): see docs/install.md.
"""

import os
import re

from conan import ConanFile
from conan.errors import ConanException
from conan.tools.build import check_min_cppstd
from conan.tools.cmake import CMake, CMakeDeps, CMakeToolchain, cmake_layout
from conan.tools.files import load

required_conan_version = ">=2.0"

# backend option -> (CMake packages it needs, Conan requirements). A package
# may serve several backends (oneTBB: cpu and xtensor): it is required when any
# of them is on and ignored only when all of them are off.
BACKENDS = {
    "cpu": (("TBB", "Eigen3"), ("onetbb/[>=2021.7 <2022]", "eigen/3.4.0")),
    # The versions Debian 12 ships and the project is tested with.
    "xtensor": (("xtensor", "xsimd", "TBB"),
                ("xtensor/0.24.3", "xsimd/8.1.0", "onetbb/[>=2021.7 <2022]")),
    # The CUDA toolkit comes from the system (it is no Conan package).
    "cuda": (("CUDAToolkit",), ()),
}


class LabelgraphConan(ConanFile):
    name = "labelgraph"
    description = ("Header-only C++20 library for training classifiers to predict paths "
                   "through a label graph")
    topics = ("machine-learning", "hierarchical-classification", "label-graph", "header-only")
    license = "MIT"
    package_type = "header-library"
    settings = "os", "arch", "compiler", "build_type"
    options = {f"with_{backend}": [True, False] for backend in BACKENDS}
    default_options = {"with_cpu": True, "with_xtensor": False, "with_cuda": False}
    # Exactly what `cmake --install` needs with tests, tools, benchmarks,
    # examples and docs switched off.
    exports_sources = "CMakeLists.txt", "cmake/*", "include/*", "backends/*"
    no_copy_source = True

    def set_version(self):
        # One source of truth: project(labelgraph VERSION x.y.z) in CMakeLists.txt.
        if not self.version:
            text = load(self, os.path.join(self.recipe_folder, "CMakeLists.txt"))
            match = re.search(r"project\(\s*labelgraph\s+VERSION\s+([0-9]+\.[0-9]+\.[0-9]+)", text)
            if not match:
                raise ConanException("labelgraph: no project(labelgraph VERSION ...) in CMakeLists.txt")
            self.version = match.group(1)

    def layout(self):
        cmake_layout(self, src_folder=".")

    def requirements(self):
        self.requires("nlohmann_json/[>=3.10 <4]", transitive_headers=True)
        # Each requirement once, however many enabled backends share it
        # (Conan rejects a duplicated requirement).
        requirements = {}
        for backend, (_, references) in BACKENDS.items():
            if self.options.get_safe(f"with_{backend}"):
                for reference in references:
                    requirements.setdefault(reference.split("/")[0], reference)
        for requirement in requirements.values():
            self.requires(requirement, transitive_headers=True, transitive_libs=True)

    def package_id(self):
        self.info.clear()

    def validate(self):
        if self.settings.get_safe("compiler.cppstd"):
            check_min_cppstd(self, 20)

    def _cmake_variables(self):
        """The project's CMake cache variables for these options."""
        variables = {
            "LABELGRAPH_INSTALL": True,
            "LABELGRAPH_BUILD_TESTS": False,
            "LABELGRAPH_BUILD_TOOLS": False,
            "LABELGRAPH_BUILD_BENCH": False,
            "LABELGRAPH_BUILD_EXAMPLES": False,
            "LABELGRAPH_BUILD_DOCS": False,
        }
        # A package shared by backends (TBB) is wanted when any of them is on.
        wanted = {}
        for backend, (packages, _) in BACKENDS.items():
            enabled = bool(self.options.get_safe(f"with_{backend}"))
            for package in packages:
                wanted[package] = wanted.get(package, False) or enabled
        for package, required in wanted.items():
            variables[f"CMAKE_REQUIRE_FIND_PACKAGE_{package}"] = required
            variables[f"CMAKE_DISABLE_FIND_PACKAGE_{package}"] = not required
        return variables

    def generate(self):
        toolchain = CMakeToolchain(self)
        for name, value in self._cmake_variables().items():
            toolchain.variables[name] = value
        toolchain.generate()
        CMakeDeps(self).generate()

    def build(self):
        pass  # header-only: package() configures and installs

    def package(self):
        cmake = CMake(self)
        cmake.configure()
        cmake.install()
        # An enabled backend that the project did not install (its target was
        # not created) is an error, not a silently smaller package.
        config_folder = os.path.join(self.package_folder, "share", "labelgraph")
        for backend in BACKENDS:
            targets = os.path.join(config_folder, f"labelgraph-{backend}-targets.cmake")
            if self.options.get_safe(f"with_{backend}") and not os.path.isfile(targets):
                raise ConanException(f"labelgraph: with_{backend}=True, but the {backend} backend was not "
                                     f"installed ({targets} is missing)")

    def package_info(self):
        # CMake: the package's own labelgraphConfig.cmake (components, clear messages).
        self.cpp_info.set_property("cmake_find_mode", "none")
        self.cpp_info.builddirs = [os.path.join("share", "labelgraph")]
        self.cpp_info.bindirs = []
        self.cpp_info.libdirs = []

        # Other generators (PkgConfigDeps, MSBuildDeps, ...): one component per target.
        core = self.cpp_info.components["core"]
        core.set_property("pkg_config_name", "labelgraph")
        core.requires = ["nlohmann_json::nlohmann_json"]
        core.bindirs = []
        core.libdirs = []
        component_requirements = {
            "cpu": ["onetbb::libtbb", "eigen::eigen"],
            "xtensor": ["xtensor::xtensor", "xsimd::xsimd", "onetbb::libtbb"],
            "cuda": [],
        }
        for backend, requirements in component_requirements.items():
            if self.options.get_safe(f"with_{backend}"):
                component = self.cpp_info.components[backend]
                component.requires = ["core"] + requirements
                component.bindirs = []
                component.libdirs = []
                if backend == "xtensor":
                    component.defines = ["XTENSOR_USE_XSIMD"]
