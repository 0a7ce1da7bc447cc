#!/usr/bin/env python3
"""The Dockerfile half of docker/run-in-chroot.sh (which runs the plan; see there):

  dockerfile_plan.py plan DOCKERFILE TARGET BUILD_ARGS_JSON
      parses DOCKERFILE and prints the build as a bash script of calls to run-in-chroot.sh's
      functions (stage, run_shell, run_exec, copy, unexecuted, ...), every argument quoted;
  dockerfile_plan.py context CONTEXT IGNOREFILE DEST [SKIP...]
      copies the build context into DEST without what IGNOREFILE (a .dockerignore) excludes,
      nor the folders SKIP (run-in-chroot.sh's own outputs), refusing more than
      AH4J_CONTEXT_LIMIT_MB (default 1024) MiB;
  dockerfile_plan.py copy SRCROOT DESTROOT DEST SRC...
      one COPY: SRC paths (relative to SRCROOT, globs allowed) to DEST (absolute, in DESTROOT).

Supported: FROM (AS name; --platform refused), ARG (global and per stage; --build-arg values),
ENV, WORKDIR, RUN (shell and exec form), COPY (--from=stage), with Docker's ${VAR} substitution
in FROM, ENV, WORKDIR and COPY; LABEL, CMD, ENTRYPOINT, EXPOSE, STOPSIGNAL and HEALTHCHECK are
image metadata that change no file and are reported as such. Everything else (ADD, USER, SHELL,
VOLUME, ONBUILD, RUN --mount, heredocs, the escape directive, .dockerignore exceptions, ...) is
refused with its line number rather than guessed at.
"""
import json
import os
import posixpath
import re
import shlex
import shutil
import stat
import sys

METADATA = {"LABEL", "CMD", "ENTRYPOINT", "EXPOSE", "STOPSIGNAL", "HEALTHCHECK", "MAINTAINER"}
UNSUPPORTED = {"ADD", "USER", "SHELL", "VOLUME", "ONBUILD"}
DEFAULT_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"


class Refused(Exception):
    pass


def refuse(line, message):
    raise Refused("line %d: %s" % (line, message))


# ---------------------------------------------------------------------------------------------
# Parsing

def instructions(text):
    """(line number, keyword, arguments) of each instruction: comments dropped, continuations
    (a line ending in a backslash) joined as Docker joins them, without the backslash."""
    lines = text.split("\n")
    for number, line in enumerate(lines, 1):  # parser directives: '# key=value' at the very top
        m = re.match(r"^#\s*([A-Za-z]+)\s*=\s*(.*?)\s*$", line)
        if not m:
            break
        if m.group(1).lower() == "escape":
            refuse(number, "the escape parser directive is not supported")
    current, start = None, 0
    for number, line in enumerate(lines, 1):
        stripped = line.strip()
        if current is None:
            if not stripped or stripped.startswith("#"):
                continue
            current, start = "", number
        elif not stripped or stripped.startswith("#"):
            continue  # Docker drops comment and empty lines inside a continuation
        if re.search(r"\\\s*$", line):
            current += re.sub(r"\\\s*$", "", line)
            continue
        yield start, (current + line).strip()
        current = None
    if current is not None:
        yield start, current.strip()


def split_instruction(number, text):
    m = re.match(r"^(\S+)\s*(.*)$", text, re.S)
    keyword = m.group(1).upper()
    return keyword, m.group(2)


def substitute(number, text, env):
    """Docker's variable substitution: $NAME, ${NAME}, ${NAME:-word}, ${NAME:+word}; \\$ is a $."""
    out, i = [], 0
    while i < len(text):
        c = text[i]
        if c == "\\" and i + 1 < len(text) and text[i + 1] == "$":
            out.append("$")
            i += 2
            continue
        if c != "$":
            out.append(c)
            i += 1
            continue
        m = re.match(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?:(:[-+])([^}]*))?\}", text[i:])
        if m:
            name, op, word = m.group(1), m.group(2), m.group(3)
            value = env.get(name)
            if op == ":-":
                value = value if value else substitute(number, word, env)
            elif op == ":+":
                value = substitute(number, word, env) if value else ""
            out.append(value or "")
            i += m.end()
            continue
        if text[i:i + 2] == "${":
            refuse(number, "unsupported variable expression in %r" % text)
        m = re.match(r"\$([A-Za-z_][A-Za-z0-9_]*)", text[i:])
        if m:
            out.append(env.get(m.group(1)) or "")
            i += m.end()
            continue
        out.append(c)
        i += 1
    return "".join(out)


def words(number, text, env):
    """Arguments of COPY (shell or JSON form), substituted."""
    text = text.strip()
    if text.startswith("["):
        try:
            items = json.loads(text)
        except ValueError:
            refuse(number, "not a JSON array: %s" % text)
        if not all(isinstance(x, str) for x in items):
            refuse(number, "not an array of strings: %s" % text)
        return [substitute(number, x, env) for x in items]
    return [substitute(number, x, env) for x in text.split()]


def flags(number, keyword, text, allowed):
    """Leading --name=value flags of an instruction: (dict, rest)."""
    found = {}
    while True:
        m = re.match(r"^--([a-z-]+)(?:=(\S*))?\s*(.*)$", text, re.S)
        if not m:
            return found, text
        if m.group(1) not in allowed:
            refuse(number, "%s --%s is not supported" % (keyword, m.group(1)))
        found[m.group(1)] = m.group(2) or ""
        text = m.group(3)


def assignments(number, keyword, text, env):
    """NAME=value pairs of ENV (also its legacy 'ENV NAME value' form) and ARG NAME[=default]."""
    if "'" in text and "$" in text:
        refuse(number, "%s: single quotes and $ together are not supported" % keyword)
    try:
        tokens = shlex.split(text, posix=True)
    except ValueError as e:
        refuse(number, "%s: %s" % (keyword, e))
    if keyword == "ENV" and tokens and "=" not in tokens[0]:
        name, _, value = text.strip().partition(" ")
        return [(name, substitute(number, value.strip(), env))]
    result = []
    for token in tokens:
        name, eq, value = token.partition("=")
        if not re.match(r"^[A-Za-z_][A-Za-z0-9_]*$", name):
            refuse(number, "%s: bad name %r" % (keyword, name))
        if keyword == "ENV" and not eq:
            refuse(number, "ENV %s: no value" % name)
        result.append((name, substitute(number, value, env) if eq else None))
    return result


class Stage:
    def __init__(self, index, number, image, name):
        self.index, self.line, self.image, self.name = index, number, image, name
        self.steps = []  # (line, keyword, arguments, parsed)
        self.base = None  # index of the stage it builds on, or None for an image
        self.needs = set()


def parse(text, build_args):
    global_args, stages, used_args = {}, [], set()
    by_name = {}
    for number, raw in instructions(text):
        keyword, rest = split_instruction(number, raw)
        if keyword == "ARG" and not stages:
            for name, value in assignments(number, keyword, rest, global_args):
                global_args[name] = build_args.get(name, value)
                used_args.add(name)
            continue
        if keyword == "FROM":
            f, rest = flags(number, keyword, rest, ())
            parts = substitute(number, rest, global_args).split()
            if len(parts) == 3 and parts[1].upper() == "AS":
                image, name = parts[0], parts[2].lower()
            elif len(parts) == 1:
                image, name = parts[0], None
            else:
                refuse(number, "FROM: expected IMAGE [AS NAME], got %r" % rest)
            stage = Stage(len(stages), number, image, name)
            if image.lower() in by_name:
                stage.base = by_name[image.lower()]
                stage.needs.add(stage.base)
            stages.append(stage)
            if name:
                by_name[name] = stage.index
            continue
        if not stages:
            refuse(number, "%s before the first FROM" % keyword)
        stage = stages[-1]
        if keyword in ("RUN", "COPY", "ENV", "WORKDIR", "ARG") or keyword in METADATA:
            if keyword == "COPY":
                f, _ = flags(number, keyword, rest, ("from", "chown"))
                if "chown" in f and f["chown"] not in ("0", "0:0", "root", "root:root"):
                    refuse(number, "COPY --chown=%s is not supported" % f["chown"])
                if "from" in f:
                    source = f["from"].lower()
                    if source in by_name:
                        stage.needs.add(by_name[source])
                    elif source.isdigit() and int(source) < stage.index:
                        stage.needs.add(int(source))
                    else:
                        refuse(number, "COPY --from=%s: only earlier stages" % f["from"])
            stage.steps.append((number, keyword, rest))
        elif keyword in UNSUPPORTED:
            refuse(number, "%s is not supported by run-in-chroot.sh" % keyword)
        else:
            refuse(number, "unknown instruction %s" % keyword)
    if not stages:
        raise Refused("no FROM")
    return global_args, stages, by_name


def plan(dockerfile, target, build_args):
    with open(dockerfile) as f:
        global_args, stages, by_name = parse(f.read(), build_args)
    if target:
        t = target.lower()
        if t in by_name:
            goal = by_name[t]
        elif t.isdigit() and int(t) < len(stages):
            goal = int(t)
        else:
            raise Refused("no stage %r" % target)
    else:
        goal = len(stages) - 1
    wanted, todo = set(), [goal]
    while todo:  # the stages the target needs, as BuildKit builds them
        s = todo.pop()
        if s not in wanted:
            wanted.add(s)
            todo.extend(stages[s].needs)
    q = shlex.quote
    out = ["# plan of %s, target stage %d" % (dockerfile, goal)]
    env_of = {}  # stage index -> (ENV dict, workdir) at its end, for stages built on it
    for stage in stages:
        label = stage.name or str(stage.index)
        built = stage.index in wanted
        if stage.base is not None:
            env, workdir = dict(env_of[stage.base][0]), env_of[stage.base][1]
        else:
            env, workdir = {}, "/"
        args = {}
        head = "stage" if built else "unexecuted_stage"
        base = "" if stage.base is None else str(stage.base)
        out.append("%s %d %s %s %s %d" % (head, stage.index, q(label), q(stage.image), q(base),
                                          stage.line))
        for number, keyword, rest in stage.steps:
            scope = dict(args)
            scope.update(env)
            where = "%d %s" % (number, q(keyword + " " + rest))
            if keyword == "ARG":
                for name, value in assignments(number, keyword, rest, scope):
                    if name in build_args:
                        value = build_args[name]
                    elif value is None:
                        value = global_args.get(name)
                    args[name] = value
                out.append("note %s %s" % (where, q("build argument")))
            elif keyword == "ENV":
                for name, value in assignments(number, keyword, rest, scope):
                    env[name] = value
                out.append("note %s %s" % (where, q("environment of the later RUN lines")))
            elif keyword == "WORKDIR":
                path = substitute(number, rest.strip(), scope)
                workdir = posixpath.normpath(posixpath.join(workdir, path))
                out.append("%s %s %s" % ("workdir" if built else "unexecuted", where, q(workdir)))
            elif keyword == "COPY":
                f, rest2 = flags(number, keyword, rest, ("from", "chown"))
                items = words(number, rest2, scope)
                if len(items) < 2:
                    refuse(number, "COPY needs a source and a destination")
                *sources, dest = items
                trailing = dest.endswith("/") or dest in (".", "..")
                dest = posixpath.normpath(posixpath.join(workdir, dest)) + ("/" if trailing else "")
                if len(sources) > 1 and not dest.endswith("/"):
                    refuse(number, "COPY of several sources needs a destination ending in /")
                source = ""
                if "from" in f:
                    name = f["from"].lower()
                    source = str(by_name[name] if name in by_name else int(name))
                out.append("%s %s %s %s %s" % ("copy" if built else "unexecuted_copy", where,
                                               q(source), q(dest),
                                               " ".join(q(s) for s in sources)))
            elif keyword == "RUN":
                f, body = flags(number, keyword, rest, ())
                if re.search(r"<<-?\s*[\"']?[A-Za-z_]", body):
                    refuse(number, "RUN with a heredoc is not supported")
                run_env = {"PATH": DEFAULT_PATH}
                run_env.update({k: v for k, v in args.items() if v is not None})
                run_env.update(env)
                run_env.setdefault("HOME", "/root")
                env_words = " ".join(q("%s=%s" % kv) for kv in sorted(run_env.items()))
                argv = None
                if body.lstrip().startswith("["):
                    try:
                        argv = json.loads(body)
                    except ValueError:
                        argv = None  # Docker runs it through the shell then
                if not built:
                    out.append("unexecuted %s %s" % (where, q(workdir)))
                elif isinstance(argv, list) and all(isinstance(a, str) for a in argv):
                    out.append("run_exec %s %s %d %s %s" % (
                        where, q(workdir), len(run_env), env_words, " ".join(q(a) for a in argv)))
                else:
                    out.append("run_shell %s %s %s %d %s" % (
                        where, q(workdir), q(body), len(run_env), env_words))
            else:
                out.append("note %s %s" % (where, q("image metadata: changes no file")))
        env_of[stage.index] = (env, workdir)
        out.append("end_stage %d %s" % (stage.index, "1" if built else "0"))
    out.append("target_stage %d" % goal)
    print("\n".join(out))


# ---------------------------------------------------------------------------------------------
# The build context, and COPY

def ignore_patterns(path):
    if not path or not os.path.isfile(path):
        return []
    patterns = []
    with open(path) as f:
        for line in f:
            line = line.strip()
            if not line or line.startswith("#"):
                continue
            if line.startswith("!"):
                raise Refused("%s: exception patterns (!) are not supported" % path)
            line = posixpath.normpath(line.lstrip("/"))
            patterns.append(re.compile(glob_regex(line) + "$"))
    return patterns


def glob_regex(pattern):
    """A .dockerignore pattern (Go filepath.Match plus **) as a regular expression."""
    out, i = [], 0
    while i < len(pattern):
        c = pattern[i]
        if pattern.startswith("**/", i):
            out.append("(.*/)?")
            i += 3
        elif pattern.startswith("**", i):
            out.append(".*")
            i += 2
        elif c == "*":
            out.append("[^/]*")
            i += 1
        elif c == "?":
            out.append("[^/]")
            i += 1
        elif c == "[":
            j = pattern.find("]", i)
            if j < 0:
                raise Refused("bad pattern %r" % pattern)
            out.append("[" + pattern[i + 1:j].replace("!", "^", 1) + "]")
            i = j + 1
        elif c == "\\" and i + 1 < len(pattern):
            out.append(re.escape(pattern[i + 1]))
            i += 2
        else:
            out.append(re.escape(c))
            i += 1
    return "".join(out)


def copy_entry(source, target):
    """One file system entry as it is: a link as a link, a device or fifo as a node (never read:
    reading /dev/zero never ends), a file with its mode and times; owned by root."""
    st = os.lstat(source)
    if os.path.lexists(target) and not stat.S_ISDIR(os.lstat(target).st_mode):
        os.unlink(target)
    if stat.S_ISLNK(st.st_mode):
        os.symlink(os.readlink(source), target)
    elif stat.S_ISREG(st.st_mode):
        shutil.copy2(source, target)
    elif stat.S_ISCHR(st.st_mode) or stat.S_ISBLK(st.st_mode) or stat.S_ISFIFO(st.st_mode):
        os.mknod(target, st.st_mode, st.st_rdev)
    else:
        return 0  # a socket
    os.lchown(target, 0, 0)
    return 1


def context(root, ignore_file, dest, skip):
    patterns = ignore_patterns(ignore_file)
    skip = {os.path.realpath(s) for s in skip} | {os.path.realpath(dest)}
    limit = int(os.environ.get("AH4J_CONTEXT_LIMIT_MB", "1024")) << 20
    chosen, size, excluded = [], 0, 0
    for folder, dirs, files in os.walk(root):
        rel = os.path.relpath(folder, root)
        rel = "" if rel == "." else rel + "/"
        for name in list(dirs):
            path = os.path.join(folder, name)
            if any(p.match(rel + name) for p in patterns) or os.path.realpath(path) in skip:
                dirs.remove(name)
                excluded += 1
            elif os.path.islink(path):
                dirs.remove(name)  # a link to a folder is copied as a link
                files.append(name)
            else:
                chosen.append((rel + name, True))
        for name in files:
            if any(p.match(rel + name) for p in patterns):
                excluded += 1
                continue
            chosen.append((rel + name, False))
            st = os.lstat(os.path.join(folder, name))
            size += st.st_size if stat.S_ISREG(st.st_mode) else 0
    if size > limit:
        raise Refused("the build context is %d MiB (over AH4J_CONTEXT_LIMIT_MB): is a "
                      ".dockerignore missing?" % (size >> 20))
    for rel, is_dir in chosen:
        if is_dir:
            os.makedirs(os.path.join(dest, rel), exist_ok=True)
        else:
            copy_entry(os.path.join(root, rel), os.path.join(dest, rel))
    print("context: %d entries, %d MiB; %d paths excluded (%s)" % (
        len(chosen), size >> 20, excluded,
        os.path.relpath(ignore_file) if patterns else "no .dockerignore"))


def expand(root, source):
    """The paths a COPY source names, relative to root (Go-style globs per path segment)."""
    source = posixpath.normpath(source.lstrip("/"))
    if not re.search(r"[*?\[]", source):
        return [source] if os.path.lexists(os.path.join(root, source)) else []
    found = [""]
    for segment in source.split("/"):
        nxt = []
        for base in found:
            folder = os.path.join(root, base)
            if not re.search(r"[*?\[]", segment):
                if os.path.lexists(os.path.join(folder, segment)):
                    nxt.append(posixpath.join(base, segment))
            elif os.path.isdir(folder):
                rx = re.compile(glob_regex(segment) + "$")
                nxt += [posixpath.join(base, n) for n in sorted(os.listdir(folder)) if rx.match(n)]
        found = nxt
    return found


def copy_tree(source, target):
    if os.path.islink(source) or not os.path.isdir(source):
        if os.path.isdir(target) and not os.path.islink(target):
            target = os.path.join(target, os.path.basename(source))
        os.makedirs(os.path.dirname(target) or "/", exist_ok=True)
        return copy_entry(source, target)
    os.makedirs(target, exist_ok=True)
    shutil.copystat(source, target)
    os.lchown(target, 0, 0)
    count = 0
    for name in sorted(os.listdir(source)):
        s, t = os.path.join(source, name), os.path.join(target, name)
        if os.path.isdir(s) and not os.path.islink(s):
            count += copy_tree(s, t)
        else:
            count += copy_entry(s, t)
    return count


def copy(src_root, dest_root, dest, sources):
    matched = []
    for source in sources:
        found = expand(src_root, source)
        if not found:
            raise Refused("COPY: %s: no such file or folder" % source)
        matched += found
    if len(matched) > 1 and not dest.endswith("/"):
        raise Refused("COPY: several sources need a destination ending in /")
    target = os.path.join(dest_root, dest.lstrip("/"))
    count = 0
    for rel in matched:
        path = os.path.join(src_root, rel)
        if os.path.isdir(path) and not os.path.islink(path):
            count += copy_tree(path, target)  # a folder's contents, not the folder
        elif dest.endswith("/"):
            os.makedirs(target, exist_ok=True)
            count += copy_tree(path, os.path.join(target, os.path.basename(rel)))
        else:
            count += copy_tree(path, target)
    print("copied %d files to %s" % (count, dest))


def main():
    command, args = sys.argv[1], sys.argv[2:]
    try:
        if command == "plan":
            plan(args[0], args[1], dict(json.loads(args[2])))
        elif command == "context":
            context(args[0], args[1], args[2], args[3:])
        elif command == "copy":
            copy(args[0], args[1], args[2], args[3:])
        else:
            raise Refused("unknown command %s" % command)
    except Refused as e:
        print("%s: %s" % (os.path.basename(sys.argv[0]), e), file=sys.stderr)
        sys.exit(2)


if __name__ == "__main__":
    main()
