from conan.errors import ConanInvalidConfiguration


def check_min_cppstd(conanfile, cppstd):
    value = str(conanfile.settings.get_safe("compiler.cppstd") or "")
    if value and int(value.replace("gnu", "")) < int(cppstd):
        raise ConanInvalidConfiguration(f"{conanfile.name} needs C++{cppstd}, compiler.cppstd is {value}")


def can_run(conanfile):
    del conanfile
    return True
