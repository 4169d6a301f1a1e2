"""Conan 2 test_package of labelgraph: builds test_package.cpp against the
created package with the components its options enabled, and runs it."""

import os

from conan import ConanFile
from conan.tools.build import can_run
from conan.tools.cmake import CMake, CMakeDeps, CMakeToolchain, cmake_layout


class LabelgraphTestConan(ConanFile):
    settings = "os", "arch", "compiler", "build_type"
    test_type = "explicit"

    def requirements(self):
        self.requires(self.tested_reference_str)

    def layout(self):
        cmake_layout(self)

    def generate(self):
        labelgraph = self.dependencies["labelgraph"]
        components = [backend for backend in ("cpu", "xtensor") if labelgraph.options.get_safe(f"with_{backend}")]
        toolchain = CMakeToolchain(self)
        toolchain.variables["LABELGRAPH_TEST_COMPONENTS"] = ";".join(components)
        toolchain.generate()
        CMakeDeps(self).generate()

    def build(self):
        cmake = CMake(self)
        cmake.configure()
        cmake.build()

    def test(self):
        if can_run(self):
            self.run(os.path.join(self.cpp.build.bindir, "test_package"), env="conanrun")
