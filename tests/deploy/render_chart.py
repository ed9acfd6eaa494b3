#!/usr/bin/python3
"""Renders deploy/helm/peat-mesh with a small interpreter of the Go template subset the chart uses.

No helm binary exists on the build machines, so the chart test renders the templates itself:
define/include, if/else if/else/end, pipelines, and the Sprig functions the chart calls. An action
or function outside that subset is an error, so a template change that needs real helm fails loudly.
"""
import base64
import json
import re
import sys
from pathlib import Path

import yaml

ACTION = re.compile(r"\{\{(-?)\s*(.*?)\s*(-?)\}\}", re.S)


class TemplateError(Exception):
    pass


def tokenize(text):
    """Splits into ('text', s) and ('action', s), applying the {{- and -}} trim markers."""
    tokens, pos = [], 0
    for m in ACTION.finditer(text):
        chunk = text[pos:m.start()]
        if m.group(1):
            chunk = chunk.rstrip()
        tokens.append(["text", chunk])
        tokens.append(["action", m.group(2), bool(m.group(3))])
        pos = m.end()
    tokens.append(["text", text[pos:]])
    for i, tok in enumerate(tokens):  # right trim applies to the following text
        if tok[0] == "action" and tok[2] and i + 1 < len(tokens):
            tokens[i + 1][1] = tokens[i + 1][1].lstrip()
    return tokens


def parse(tokens, i=0, stop=("end",)):
    """Builds a tree: list of ('text', s) | ('out', expr) | ('if', [(cond, body)], else_body)."""
    nodes = []
    while i < len(tokens):
        tok = tokens[i]
        if tok[0] == "text":
            nodes.append(("text", tok[1]))
            i += 1
            continue
        action = tok[1]
        word = action.split(" ", 1)[0]
        if word in ("end", "else"):
            return nodes, i
        if word == "if":
            branches, else_body = [], []
            cond = action[3:]
            while True:
                body, i = parse(tokens, i + 1)
                branches.append((cond, body))
                closing = tokens[i][1]
                if closing == "end":
                    break
                if closing.startswith("else if "):
                    cond = closing[8:]
                    continue
                if closing == "else":
                    else_body, i = parse(tokens, i + 1)
                    break
                raise TemplateError("unexpected " + closing)
            nodes.append(("if", branches, else_body))
            i += 1
            continue
        if word == "define":
            name = json.loads(action[7:])
            body, i = parse(tokens, i + 1)
            nodes.append(("define", name, body))
            i += 1
            continue
        nodes.append(("out", action))
        i += 1
    return nodes, i


TERM = re.compile(r'\s*("(?:[^"\\]|\\.)*"|\(|\)|\||[^\s()|]+)')


def split_terms(expr):
    out, pos = [], 0
    while pos < len(expr):
        m = TERM.match(expr, pos)
        if not m:
            break
        out.append(m.group(1))
        pos = m.end()
    return out


def truthy(v):
    return v not in (None, False, 0, "", [], {})


def go_quote(v):
    return json.dumps(v if isinstance(v, str) else to_text(v))


def to_text(v):
    if v is None:
        return ""
    if isinstance(v, bool):
        return "true" if v else "false"
    return str(v)


class Renderer:
    def __init__(self, chart_dir, values, release):
        self.chart = yaml.safe_load((chart_dir / "Chart.yaml").read_text())
        self.values = values
        self.release = release
        self.defines = {}

    def context(self):
        return {
            "Values": self.values,
            "Release": self.release,
            "Chart": {"Name": self.chart["name"], "AppVersion": self.chart["appVersion"],
                      "Version": self.chart["version"]},
        }

    def lookup(self, path, dot):
        cur = dot
        for part in path.split(".")[1:]:
            if part == "":
                continue
            cur = cur.get(part) if isinstance(cur, dict) else None
        return cur

    def eval_pipeline(self, terms, dot):
        commands, current = [], []
        depth = 0
        for t in terms:
            if t == "(":
                depth += 1
            elif t == ")":
                depth -= 1
            if t == "|" and depth == 0:
                commands.append(current)
                current = []
            else:
                current.append(t)
        commands.append(current)
        value, first = None, True
        for cmd in commands:
            args = self.eval_args(cmd, dot)
            if not first:
                args.append(value)
            value = self.call(args) if (cmd and isinstance(args[0], Func)) else args[0]
            first = False
        return value

    def eval_args(self, terms, dot):
        args, i = [], 0
        while i < len(terms):
            t = terms[i]
            if t == "(":
                depth, j = 1, i + 1
                while depth:
                    depth += {"(": 1, ")": -1}.get(terms[j], 0)
                    j += 1
                args.append(self.eval_pipeline(terms[i + 1:j - 1], dot))
                i = j
                continue
            if t.startswith('"'):
                args.append(json.loads(t))
            elif t == ".":
                args.append(dot)
            elif t.startswith("."):
                args.append(self.lookup(t, dot))
            elif re.fullmatch(r"-?\d+", t):
                args.append(int(t))
            elif t in FUNCS:
                args.append(Func(t))
            else:
                raise TemplateError("unsupported term: " + t)
            i += 1
        return args

    def call(self, args):
        name, rest = args[0].name, args[1:]
        if name == "include":
            return self.render_nodes(self.defines[rest[0]], rest[1])
        return FUNCS[name](*rest)

    def render_nodes(self, nodes, dot):
        out = []
        for node in nodes:
            if node[0] == "text":
                out.append(node[1])
            elif node[0] == "define":
                self.defines[node[1]] = node[2]
            elif node[0] == "out":
                out.append(to_text(self.eval_pipeline(split_terms(node[1]), dot)))
            elif node[0] == "if":
                for cond, body in node[1]:
                    if truthy(self.eval_pipeline(split_terms(cond), dot)):
                        out.append(self.render_nodes(body, dot))
                        break
                else:
                    out.append(self.render_nodes(node[2], dot))
        return "".join(out)

    def render(self, chart_dir):
        helpers = chart_dir / "templates" / "_helpers.tpl"
        self.render_nodes(parse(tokenize(helpers.read_text()))[0], self.context())
        docs = []
        for path in sorted((chart_dir / "templates").glob("*.yaml")):
            text = self.render_nodes(parse(tokenize(path.read_text()))[0], self.context())
            docs.extend(d for d in yaml.safe_load_all(text) if d)
        return docs


class Func:
    def __init__(self, name):
        self.name = name


def required(msg, v):
    if not truthy(v):
        raise TemplateError(msg)
    return v


FUNCS = {
    "include": None,
    "default": lambda d, v=None: v if truthy(v) else d,
    "trunc": lambda n, s: s[:n],
    "trimSuffix": lambda suf, s: s[: -len(suf)] if suf and s.endswith(suf) else s,
    "printf": lambda fmt, *a: fmt % tuple(a),
    "contains": lambda sub, s: sub in s,
    "quote": go_quote,
    "b64enc": lambda s: base64.b64encode(to_text(s).encode()).decode(),
    "required": required,
    "toYaml": lambda v: yaml.safe_dump(v, default_flow_style=False, sort_keys=True).rstrip("\n"),
    "nindent": lambda n, s: "\n" + "\n".join(" " * n + line for line in s.split("\n")),
    "not": lambda v: not truthy(v),
}


def render_chart(chart_dir, overrides=None, release_name="peat"):
    values = yaml.safe_load((chart_dir / "values.yaml").read_text())
    for key, val in (overrides or {}).items():
        cur = values
        parts = key.split(".")
        for p in parts[:-1]:
            cur = cur.setdefault(p, {})
        cur[parts[-1]] = val
    release = {"Name": release_name, "Namespace": "default", "Service": "Helm"}
    return Renderer(chart_dir, values, release).render(chart_dir)


if __name__ == "__main__":
    chart = Path(sys.argv[1])
    sets = dict(a.split("=", 1) for a in sys.argv[2:])
    print(yaml.safe_dump_all(render_chart(chart, sets), sort_keys=False))
