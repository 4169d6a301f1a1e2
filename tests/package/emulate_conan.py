#!/usr/bin/env python3
"""Runs labelgraph's Conan 2 recipe (conanfile.py) and test_package the way
`conan create . -o labelgraph/*:<option>=<value> -s compiler.cppstd=20` would,
without Conan: the recipe's own methods are called in Conan's order against a
stand-in of the Conan API (tests/package/conan_stub), with staging folders for
the export, build, package and test_package. Requirements are recorded and
checked, not downloaded: the build uses the system's packages instead.

    emulate_conan.py --source-dir DIR --work-dir DIR [--option with_cpu=True ...]
                     [--cmake PATH] [--generator NAME] [--cxx-compiler PATH]

Fails (non-zero exit, a message on stderr) when any step fails or a check does
not hold: an option's requirements, the package's contents against the options,
component requirements that Conan would reject, package_id not cleared.
"""

import sys

sys.dont_write_bytecode = True  # nothing may be written into the source tree

import argparse  # noqa: E402
import fnmatch  # noqa: E402
import importlib.util  # noqa: E402
import inspect  # noqa: E402
import os  # noqa: E402
import shutil  # noqa: E402

STUB_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "conan_stub")
sys.path.insert(0, STUB_DIR)

import conan  # noqa: E402  (the stand-in)
from conan.tools import cmake as conan_cmake  # noqa: E402

# What each backend option must pull in (Conan reference names). oneTBB is
# shared by cpu and xtensor: an option that is off must not pull in what only
# its backend needs.
EXPECTED_REQUIREMENTS = {"cpu": {"onetbb", "eigen"}, "xtensor": {"xtensor", "xsimd", "onetbb"}, "cuda": set()}


class Failure(Exception):
    pass


def check(condition, message):
    if not condition:
        raise Failure(message)


class Options:
    """Recipe options with Conan's value checking; values are Python bools or strings."""

    def __init__(self, declared, defaults, overrides):
        self._values = {}
        for name, allowed in declared.items():
            self._values[name] = defaults.get(name)
        for name, text in overrides.items():
            check(name in declared, f"unknown option '{name}' (the recipe declares {sorted(declared)})")
            value = {"True": True, "False": False}.get(text, text)
            check(value in declared[name], f"option {name}={text} is not one of {declared[name]}")
            self._values[name] = value

    def get_safe(self, name, default=None):
        return self._values.get(name, default)

    def __getattr__(self, name):
        if name.startswith("_"):
            raise AttributeError(name)
        check(name in self._values, f"the recipe reads the undeclared option '{name}'")
        return self._values[name]

    def items(self):
        return self._values.items()


class Settings:
    def __init__(self, values):
        self._values = values

    def get_safe(self, name, default=None):
        return self._values.get(name, default)


class Dependency:
    """`self.dependencies["labelgraph"]` as test_package sees it."""

    def __init__(self, recipe):
        self.options = recipe.options
        self.cpp_info = recipe.cpp_info
        self.package_folder = recipe.package_folder
        self.ref = f"{recipe.name}/{recipe.version}"


def load_recipe_class(path):
    spec = importlib.util.spec_from_file_location(f"recipe_{abs(hash(path))}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    classes = [value for value in vars(module).values()
               if inspect.isclass(value) and issubclass(value, conan.ConanFile) and value is not conan.ConanFile]
    check(len(classes) == 1, f"{path}: expected one ConanFile class, found {len(classes)}")
    return classes[0]


def call(recipe, method):
    function = getattr(recipe, method, None)
    if function is not None:
        print(f"[conan emulation] {type(recipe).__name__}.{method}()", flush=True)
        function()


def export_sources(recipe_folder, patterns, destination):
    """Copies what `exports_sources` names, as `conan export` does (fnmatch on
    paths relative to the recipe folder). Only the literal leading folder of
    each pattern is walked, so that build trees are never scanned."""
    if isinstance(patterns, str):
        patterns = (patterns,)
    shutil.rmtree(destination, ignore_errors=True)
    copied = 0
    for pattern in patterns:
        literal = pattern.split("*")[0]
        top = os.path.dirname(literal) if "/" in literal else ""
        for folder, _, files in os.walk(os.path.join(recipe_folder, top)):
            for file in files:
                relative = os.path.relpath(os.path.join(folder, file), recipe_folder).replace(os.sep, "/")
                if fnmatch.fnmatch(relative, pattern):
                    os.makedirs(os.path.join(destination, os.path.dirname(relative)), exist_ok=True)
                    shutil.copy2(os.path.join(recipe_folder, relative), os.path.join(destination, relative))
                    copied += 1
            if not top:
                break  # a pattern without a folder matches files at the top only
    check(copied > 0, f"exports_sources {patterns} matched no file")
    print(f"[conan emulation] exported {copied} source files to {destination}", flush=True)


def check_component_requirements(recipe):
    """Conan 2 rejects components that require unknown packages and direct
    requirements that no component uses."""
    direct = {reference.split("/")[0] for reference, _ in recipe.requirements_declared}
    components = recipe.cpp_info.components
    used = set()
    for name, component in components.items():
        for requirement in component.requires:
            if "::" in requirement:
                package = requirement.split("::")[0]
                check(package in direct, f"component '{name}' requires '{requirement}', but the recipe "
                                         f"does not require '{package}'")
                used.add(package)
            else:
                check(requirement in components, f"component '{name}' requires the unknown component "
                                                 f"'{requirement}'")
    if components:
        check(used == direct, f"requirements not used by any component: {sorted(direct - used)}")


def create(args):
    source_dir = os.path.abspath(args.source_dir)
    work = os.path.abspath(args.work_dir)
    shutil.rmtree(work, ignore_errors=True)
    overrides = dict(option.split("=", 1) for option in args.option)
    settings = Settings({"os": "Linux", "arch": "x86_64", "compiler": "gcc", "compiler.cppstd": args.cppstd,
                         "build_type": "Release"})
    conan_cmake.EMULATION.update(cmake=args.cmake, generator=args.generator, cxx_compiler=args.cxx_compiler)

    # conan export: the recipe and its sources.
    recipe_class = load_recipe_class(os.path.join(source_dir, "conanfile.py"))
    check(recipe_class.package_type == "header-library",
          f"package_type is {recipe_class.package_type!r}, not 'header-library'")
    recipe = recipe_class()
    recipe.folders.recipe_folder = source_dir
    recipe.settings = settings
    recipe.options = Options(recipe_class.options, recipe_class.default_options, overrides)
    call(recipe, "set_version")
    check(recipe.version, "the recipe defines no version")
    export = os.path.join(work, "export_source")
    export_sources(source_dir, recipe_class.exports_sources, export)

    # conan create: the package, from the exported sources only.
    for which, folder in (("source", export), ("build", work), ("generators", work)):
        recipe.folders.base[which] = folder
    recipe.folders.package_folder = os.path.join(work, "package")
    for method in ("config_options", "configure", "layout", "requirements", "package_id", "validate",
                   "generate", "build", "package", "package_info"):
        call(recipe, method)
    check(recipe.info.cleared, "package_id() does not clear self.info (a header-only package has one id)")

    declared = {reference.split("/")[0] for reference, _ in recipe.requirements_declared}
    print(f"[conan emulation] requirements: {[reference for reference, _ in recipe.requirements_declared]}")
    check("nlohmann_json" in declared, "the core's requirement nlohmann_json is missing")
    config = os.path.join(recipe.package_folder, "share", "labelgraph")
    needed = set().union(*(expected for backend, expected in EXPECTED_REQUIREMENTS.items()
                           if recipe.options.get_safe(f"with_{backend}")))
    for backend, expected in EXPECTED_REQUIREMENTS.items():
        enabled = bool(recipe.options.get_safe(f"with_{backend}"))
        if enabled:
            check(expected <= declared, f"with_{backend}=True must require {sorted(expected)}, "
                                        f"the requirements are {sorted(declared)}")
        else:
            unneeded = (expected - needed) & declared
            check(not unneeded, f"with_{backend}=False still requires {sorted(unneeded)}")
        targets = os.path.join(config, f"labelgraph-{backend}-targets.cmake")
        check(os.path.isfile(targets) == enabled,
              f"with_{backend}={enabled}, but {targets} {'is missing' if enabled else 'was installed'}")
    check(os.path.isfile(os.path.join(config, "labelgraphConfig.cmake")), "no labelgraphConfig.cmake in the package")
    check(os.path.isfile(os.path.join(recipe.package_folder, "include", "labelgraph", "config.hpp")),
          "no headers in the package")
    check(recipe.cpp_info.properties.get("cmake_find_mode") == "none" and recipe.cpp_info.builddirs,
          "CMake consumers must get the package's own config file (cmake_find_mode none + builddirs)")
    check_component_requirements(recipe)

    # conan test: test_package against the package.
    test_class = load_recipe_class(os.path.join(source_dir, "test_package", "conanfile.py"))
    test = test_class()
    test.folders.recipe_folder = os.path.join(source_dir, "test_package")
    test.settings = settings
    test.options = Options({}, {}, {})
    test.tested_reference_str = f"{recipe.name}/{recipe.version}"
    test.dependencies = {recipe.name: Dependency(recipe)}
    for which, folder in (("source", test.folders.recipe_folder), ("build", os.path.join(work, "test_package")),
                          ("generators", os.path.join(work, "test_package"))):
        test.folders.base[which] = folder
    for method in ("layout", "requirements", "generate", "build", "test"):
        call(test, method)
    check([reference for reference, _ in test.requirements_declared] == [test.tested_reference_str],
          "test_package must require exactly the tested reference")
    check(test.commands_run, "test_package ran nothing")
    print(f"[conan emulation] {recipe.name}/{recipe.version} with "
          f"{', '.join(f'{k}={v}' for k, v in recipe.options.items())}: created and tested")


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--source-dir", required=True)
    parser.add_argument("--work-dir", required=True)
    parser.add_argument("--option", action="append", default=[], help="NAME=VALUE, as -o labelgraph/*:NAME=VALUE")
    parser.add_argument("--cppstd", default="20")
    parser.add_argument("--cmake", default="cmake")
    parser.add_argument("--generator", default="Unix Makefiles")
    parser.add_argument("--cxx-compiler")
    args = parser.parse_args()
    try:
        create(args)
    except Failure as failure:
        print(f"conan emulation: FAILED: {failure}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
