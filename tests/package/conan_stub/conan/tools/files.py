def load(conanfile, path, encoding="utf-8"):
    del conanfile
    with open(path, encoding=encoding) as file:
        return file.read()
