#!/usr/bin/env python3
"""Checks that the jars a Docker build made are the ones the host's Maven build makes:

  compare_jars.py HOST_DIR HOST_ROOT IMAGE_DIR IMAGE_ROOT

HOST_DIR and IMAGE_DIR hold the jars (presets/target); HOST_ROOT and IMAGE_ROOT are the source
trees they were built in (the repository, /src), which builds may write into binaries.
Required: the same jar files (the host's -gpu flavour, from a `mvn -Pgpu` build, left out: the
CPU Dockerfile does not make it); in each, the same entries in the same order; every class file and
every other non-ELF entry (manifest, pom.properties, ...) byte for byte the same; every shared
library either byte for byte the same, or with the same exported symbols, needed libraries,
soname and run path (the build root read as one). Jars are never compared whole: their entries
carry the build's timestamps.
"""
import os
import subprocess
import sys
import tempfile
import zipfile


def elf_summary(data, root):
    """What a shared library offers and needs, from readelf and nm."""
    with tempfile.NamedTemporaryFile(suffix=".so") as f:
        f.write(data)
        f.flush()
        dynamic = subprocess.run(["readelf", "-d", f.name], capture_output=True, text=True,
                                 check=True).stdout
        symbols = subprocess.run(["nm", "-D", "--defined-only", "--format=posix", f.name],
                                 capture_output=True, text=True, check=True).stdout
    tags = []
    for line in dynamic.splitlines():
        for tag in ("(NEEDED)", "(SONAME)", "(RUNPATH)", "(RPATH)"):
            if tag in line:
                tags.append(tag + " " + line.split(":", 1)[1].strip().replace(root, "<root>"))
    names = sorted(" ".join(line.split()[:2]) for line in symbols.splitlines() if line.strip())
    return tags, names


def jars(folder):
    # The release profile's sources and javadoc jars (a host that ran .ci/javadoc.sh has them) are
    # not what the Dockerfile builds; GPU flavours neither.
    return sorted(n for n in os.listdir(folder) if n.endswith(".jar") and "-gpu" not in n
                  and not n.endswith(("-sources.jar", "-javadoc.jar")))


def main():
    host_dir, host_root, image_dir, image_root = sys.argv[1:5]
    problems, notes = [], []
    if jars(host_dir) != jars(image_dir):
        problems.append("jar files differ: host %s, image %s" % (jars(host_dir), jars(image_dir)))
    for name in sorted(set(jars(host_dir)) & set(jars(image_dir))):
        with zipfile.ZipFile(os.path.join(host_dir, name)) as h, \
                zipfile.ZipFile(os.path.join(image_dir, name)) as i:
            hn, im = h.namelist(), i.namelist()
            if hn != im:
                problems.append("%s: entries differ: only on the host %s, only in the image %s%s"
                                % (name, sorted(set(hn) - set(im)), sorted(set(im) - set(hn)),
                                   "" if sorted(hn) != sorted(im) else " (order)"))
                continue
            same = classes = 0
            for entry in hn:
                a, b = h.read(entry), i.read(entry)
                classes += entry.endswith(".class")
                if a == b:
                    same += 1
                elif not a.startswith(b"\x7fELF") or not b.startswith(b"\x7fELF"):
                    problems.append("%s: %s differs (%d and %d bytes)" % (name, entry, len(a),
                                                                          len(b)))
                elif elf_summary(a, host_root) == elf_summary(b, image_root):
                    tags, symbols = elf_summary(a, host_root)
                    notes.append("%s: %s: not the same bytes, but the same %d exported symbols, "
                                 "needed libraries, soname and run path (%s)"
                                 % (name, entry, len(symbols), "; ".join(tags)))
                else:
                    problems.append("%s: %s: exported symbols, needed libraries or run path "
                                    "differ" % (name, entry))
            print("%s: %d entries (%d class files), %d byte for byte the same"
                  % (name, len(hn), classes, same))
    for note in notes:
        print("note: " + note)
    for problem in problems:
        print("FAILED: " + problem)
    sys.exit(1 if problems else 0)


if __name__ == "__main__":
    main()
