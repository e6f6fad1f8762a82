"""hardcoded-secret: API keys, tokens, passwords and credentials written into a notebook's code."""
from __future__ import annotations

import ast
import re
from dataclasses import dataclass
from functools import lru_cache

from ..analysis import CellModel, NotebookModel, Span
from ..findings import Fix, Severity
from ..transform import MagicLine, written_module
from .base import Rule
from .literals import holder_name, literal_node, magic_tokens, name_words, on_magic_line


class _LazyPattern:
    """A pattern compiled on its first use. Most notebooks hold no token, URL or secret's name, so most
    of these are never needed, and compiling them at import took about 2 ms of each start (pre-commit
    checks one notebook at a time); once compiled, its methods are plain attributes, as fast as the
    pattern's own. The patterns read for every literal stay `re.compile`d."""

    def __init__(self, pattern: str, flags: int = 0):
        self.pattern, self.flags = pattern, flags

    def __getattr__(self, name: str):
        compiled = re.compile(self.pattern, self.flags)
        self.search, self.match, self.fullmatch = compiled.search, compiled.match, compiled.fullmatch
        self.finditer, self.findall = compiled.finditer, compiled.findall
        return getattr(compiled, name)


FIX = Fix("Read the secret from an environment variable or a secrets manager, and rotate it", "unsafe")
FROM_ENVIRONMENT = ("read it from an environment variable (`os.environ`), `getpass` or a secrets manager, "
                    "and rotate it: it is in the notebook's history")

# Tokens recognised by their shape alone, whatever name they are given.
KNOWN_TOKENS = (
    ("AWS access key id", _LazyPattern(r"\b(?:AKIA|ASIA|ABIA|ACCA)[A-Z0-9]{16}\b")),
    ("GitHub token", _LazyPattern(r"\b(?:gh[pousr]_[A-Za-z0-9]{30,}|github_pat_[A-Za-z0-9_]{40,})")),
    ("GitLab token", _LazyPattern(r"\bglpat-[A-Za-z0-9_-]{20,}")),
    ("Slack token", _LazyPattern(r"\bxox[abposr]-[A-Za-z0-9-]{10,}")),
    ("Slack webhook URL", _LazyPattern(r"https://hooks\.slack\.com/(?:services|workflows|triggers)/[A-Za-z0-9/_-]{20,}")),
    ("Discord webhook URL", _LazyPattern(r"https://(?:ptb\.|canary\.)?discord(?:app)?\.com/api/webhooks/\d+/[\w-]{20,}")),
    ("Stripe key", _LazyPattern(r"\b[rs]k_(?:live|test)_[A-Za-z0-9]{16,}")),
    # OpenAI, Anthropic and look-alikes: a long random run after the prefix, not "sk-learn-model-v2"
    ("API key", _LazyPattern(r"(?<![\w-])sk-(?:[A-Za-z0-9]+-){0,3}[A-Za-z0-9_]{20,}")),
    ("Google API key", _LazyPattern(r"\bAIza[0-9A-Za-z_-]{35}")),
    ("Hugging Face token", _LazyPattern(r"\bhf_[A-Za-z0-9]{30,}")),
    ("SendGrid API key", _LazyPattern(r"\bSG\.[\w-]{20,}\.[\w-]{20,}")),
    ("JSON Web Token", _LazyPattern(r"\beyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}")),
    ("Private key", _LazyPattern(r"-----BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY(?: BLOCK)?-----")),
)
_KNOWN_PREFILTER = _LazyPattern(r"AKIA|ASIA|ABIA|ACCA|gh[pousr]_|github_pat_|glpat-|xox|hooks\.slack|discord|[rs]k_|"
                                r"sk-|AIza|hf_|SG\.|eyJ|PRIVATE KEY")
# scheme://user:password@host
CREDENTIALS_URL = _LazyPattern(
    r"(?P<scheme>[A-Za-z][A-Za-z0-9+.-]*)://(?P<user>[^\s:/@'\"]*):(?P<password>[^\s@/'\"]+)@(?P<host>[^\s/'\":?#]*)"
)
# Worth a closer look: a known token's prefix, or an Authorization header.
_INTERESTING = re.compile(_KNOWN_PREFILTER.pattern + r"|uthorization|UTHORIZATION")
# No known token (`xoxb-` and ten characters, a Slack token) nor Authorization header is shorter: a shorter
# literal is not worth that closer look (the test of this module pins the figure against the patterns).
_SHORTEST_TOKEN = 15
_SECRET_HINT = re.compile(r"pass|pwd|secret|token|key|auth|cred", re.IGNORECASE)
_AWS_SECRET = _LazyPattern(r"(?=[A-Za-z0-9/+]*[a-z])(?=[A-Za-z0-9/+]*[A-Z])(?=[A-Za-z0-9/+]*\d)[A-Za-z0-9/+]{40}")
# ODBC/ADO.NET and Azure connection strings: "Server=...;User ID=ana;Password=...;"
_CONNECTION_STRING = _LazyPattern(
    r"(?i)(?:^|;)\s*(?P<name>password|pwd|accountkey|sharedaccesskey|sharedaccesssignature)\s*=\s*(?P<value>[^;]+)"
)
_QUERY_SECRET = _LazyPattern(r"[?&](?P<name>[A-Za-z_][\w-]*)=(?P<value>[^&#\s'\"]+)")
_QUERY_SECRET_NAMES = {"key", "apikey", "api_key", "appid", "token", "access_token", "sig", "signature",
                       "client_secret", "secret", "password", "auth", "code"}
_AUTHORIZATION = _LazyPattern(r"(?i)\b(?:proxy-)?authorization:\s*(?:bearer|token|basic)\s+(?P<secret>[^\s'\"]+)")

_PASSWORD_WORDS = {"password", "passwd", "passphrase", "pwd", "pass", "pword", "passw", "passcode"}
_SECRET_WORDS = {"secret", "secrets", "token", "apikey", "credential", "credentials", "creds", "privatekey",
                 "authorization", "bearer", "accesskey", "secretkey", "authtoken", "accesstoken", "clientsecret",
                 "auth", "sas", "signingkey", "apitoken"}
# A name with one of these words is about a secret, not one: `max_tokens`, `password_reset_count`, `tokenizer`.
_NOT_SECRET_WORDS = {
    "tokenizer", "tokenizers", "tokens", "tokenize", "tokenized", "tokenization", "count", "counts", "num", "number",
    "max", "min", "len", "length", "limit", "size", "type", "types", "id", "ids", "index", "idx", "indices",
    "pattern", "patterns", "regex", "re", "field", "fields", "path", "paths", "file", "files", "filename", "dir",
    "folder", "env", "var", "variable", "name", "names", "prompt", "label", "labels", "column", "columns", "col",
    "cols", "reset", "policy", "hint", "strength", "expiry", "expires", "expiration", "ttl", "timeout", "format",
    "fmt", "input", "placeholder", "example", "template", "help", "message", "msg", "error", "errors",
    "required", "enabled", "enable", "mode", "manager", "counter", "usage", "budget", "cost", "pad", "eos", "bos",
    "unk", "sep", "cls", "mask", "sos", "oov", "special", "start", "end", "stop", "hash", "hashed", "salt",
    "sha", "md5", "checksum", "position", "pos", "embedding", "embeddings", "vocab", "logits", "logprobs",
    "prob", "probs", "level", "rate", "window", "dim", "filter", "validator", "validation", "check", "valid",
    "invalid", "match", "mismatch", "flag", "is", "has", "show", "hide", "visible", "widget", "box", "button",
    "chars", "char", "method", "scheme", "kind", "class", "arn", "scope", "version", "region", "vault", "store",
    "threshold", "through", "fail", "score", "grade", "percent", "forward", "backward", "rule", "rules",
    "generator", "provider", "url", "uri", "endpoint", "keyword", "keywords", "lookup", "prefix", "suffix",
}
# `key` alone is too common; with one of these it is not a credential either: `sort_key`, `primary_key`.
_NOT_SECRET_KEY_WORDS = {
    "primary", "foreign", "sort", "partition", "join", "group", "dict", "map", "cache", "row", "index", "lookup",
    "object", "bucket", "blob", "s3", "json", "unique", "shard", "range", "hot", "keyboard", "press", "random",
    "seed", "rng", "prng", "jax", "sub", "subkey", "dataset", "data", "feature", "features", "label", "target",
    "metric", "config", "setting", "settings", "translation", "i18n", "value", "values", "attr", "table",
    "entity", "sample", "stat", "tag", "meta", "metadata", "item", "layer", "param", "params", "state", "model",
    "cluster", "pk", "fk", "composite", "natural", "public", "pub", "match", "merge", "on", "by",
    "result", "results", "output", "input", "split", "music", "musical", "song", "date", "time", "day",
    "sorting", "legend", "color", "plot", "frame", "df", "series", "batch", "node", "edge", "graph", "ssh",
    "pair", "pairs", "first", "second", "left", "right", "new", "old", "default", "text", "question",
    "answer", "context", "doc", "document", "docs", "record", "records", "field", "schema", "hash",
}
_KNOWN_HASHES = {
    "d41d8cd98f00b204e9800998ecf8427e",  # md5("")
    "da39a3ee5e6b4b0d3255bfef95601890afd80709",  # sha1("")
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",  # sha256("")
}
_PLACEHOLDER = _LazyPattern(
    r"your|here\b|xxx|example|changeme|change[_-]me|placeholder|dummy|fake|sample|redacted|replace|insert|todo|"
    r"tbd|<|>|\{|\}|^\$\w|\$\{|\.\.\.|…|\*\*\*|%\(|%s|secret_?here",
    re.IGNORECASE,
)
_NOT_A_VALUE = {"none", "null", "nil", "test", "secret", "password", "passwd", "pass", "pwd", "token", "apikey",
                "api_key", "api-key", "default", "empty", "unset", "notset", "not_set", "n/a", "na", "mypassword",
                "mytoken", "mysecret", "mykey", "true", "false", "auto", "required", "optional", "hidden", "off",
                "on", "yes", "no", "string", "str", "bearer", "basic", "env", "environ", "keyring", "prompt"}
_ENV_NAME = _LazyPattern(r"[A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+|[A-Z]{2,}")
_WORDS_VALUE = _LazyPattern(r"[a-z]+(?:[ ._/:-][a-z]+)*")
_SNAKE_VALUE = _LazyPattern(r"[a-z][a-z0-9]*(?:[_.-][a-z0-9]+)+")
_FILE_VALUE = _LazyPattern(r"\.(?:json|txt|pem|key|env|ya?ml|ini|cfg|conf|toml|p12|pfx|crt|cer|csv|pkl|pickle|gpg|"
                           r"asc|jks|keystore|ppk|pub)$", re.IGNORECASE)
_SCHEME = re.compile(r"(?i)(?:bearer|token|basic|apikey|key)\s+(?P<rest>\S+)$")
_SPACE = re.compile(r"\s")  # what str.isspace calls space, found in C


def mask(value: str) -> str:
    """Enough to recognise a secret, not to use it."""
    return value[:4] + "…"


@lru_cache(maxsize=4096)
def secret_kind(name: str | None) -> str | None:
    """"password" or "secret" when a name says it holds one; None for `max_tokens`, `sort_key`, ..."""
    if not name:
        return None
    words = name_words(name)
    if not words or any(word in _NOT_SECRET_WORDS for word in words):
        return None
    if any(word in _PASSWORD_WORDS for word in words):
        return "password"
    if any(word in _SECRET_WORDS for word in words):
        return "secret"
    if ("key" in words or "keys" in words) and len(words) > 1 and \
            not any(word in _NOT_SECRET_KEY_WORDS for word in words):
        return "secret"
    return None


def is_placeholder(value: str) -> bool:
    lowered = value.strip().lower()
    return (not lowered or lowered in _NOT_A_VALUE or bool(_PLACEHOLDER.search(lowered))
            or (len(lowered) >= 3 and len(set(lowered)) <= 2))


def _secret_part(value: str) -> str | None:
    """The part of a literal that would be the secret (after `Bearer `, `token `...), if it is one word."""
    value = value.strip()
    scheme = _SCHEME.match(value)
    if scheme:
        value = scheme["rest"]
    return value if value and not _SPACE.search(value) else None


def looks_real(value: str, kind: str) -> bool:
    """Whether a literal given to a secret's name looks like the secret itself rather than a stand-in."""
    value = _secret_part(value)
    if value is None or is_placeholder(value):
        return False
    if "://" in value or value[0] in "/.~\\" or value[1:3] in (":\\", ":/") or _FILE_VALUE.search(value):
        return False  # URLs (credentials in them are RP602's) and file names
    if value.startswith(("arn:", "projects/")) or "secrets/" in value or "/versions/" in value:
        return False  # where a secrets manager keeps the secret, not the secret
    if _ENV_NAME.fullmatch(value) or value.lower() in _KNOWN_HASHES:
        return False
    if kind == "password":
        return len(value) >= 6 and not (_SNAKE_VALUE.fullmatch(value) and "." in value)
    if len(value) < 12 or value.isdigit() or _WORDS_VALUE.fullmatch(value):
        return False
    if _SNAKE_VALUE.fullmatch(value) and max(len(part) for part in re.split(r"[_.-]", value)) < 16:
        return False  # an identifier such as "access_token" or "model-v2-final"
    has_digit = any(ch.isdigit() for ch in value)
    has_lower = any(ch.islower() for ch in value)
    has_upper = any(ch.isupper() for ch in value)
    return (has_digit and (has_lower or has_upper)) or (has_lower and has_upper and len(value) >= 20)


def known_token(value: str) -> tuple[str, str] | None:
    """(label, the matched token) for a token of a known shape that is not a documented placeholder."""
    if not _KNOWN_PREFILTER.search(value):
        return None
    for label, pattern in KNOWN_TOKENS:
        for match in pattern.finditer(value):
            token = match.group()
            body = token[4:] if label != "Private key" else "key"
            if label != "Private key" and (is_placeholder(body) or len(set(body)) < 6):
                continue
            if label == "API key" and not any(ch.isdigit() for ch in body):
                continue
            return label, token
    return None


@dataclass(frozen=True)
class UrlSecret:
    shown: str  # the URL with its secret masked
    start: int  # where the URL starts in the text
    end: int
    kind: str = "URL"


def credentials_in_url(value: str) -> UrlSecret | None:
    """`scheme://user:password@host`, `https://...?api_key=...`, or a `...;Password=...;` connection string,
    with a real secret in it."""
    if "=" in value and ";" in value:
        for match in _CONNECTION_STRING.finditer(value):
            secret = match["value"].strip()
            if not is_placeholder(secret) and not secret.startswith(("$", "%")) and len(secret) >= 4:
                shown = value[:match.start("value")].rsplit(";", 2)[-1].lstrip() + mask(secret)
                return UrlSecret(shown, 0, len(value), "Connection string")
    if "://" not in value:
        return None
    if "@" in value:
        for match in CREDENTIALS_URL.finditer(value):
            user, password = match["user"], match["password"]
            if is_placeholder(password) or password.startswith(("$", "%", ":")) or len(password) < 3:
                continue
            if password == user:
                continue  # guest:guest, postgres:postgres: a local service's well-known default
            shown = f"{match['scheme']}://{user}:{mask(password)}@{match['host']}"
            return UrlSecret(shown, match.start(), match.end())
    if "?" in value or "&" in value:
        for match in _QUERY_SECRET.finditer(value):
            name, secret = match["name"], match["value"]
            if (name.lower() in _QUERY_SECRET_NAMES or secret_kind(name)) and looks_real(secret, "secret"):
                url_start = value.rfind("://", 0, match.start())
                start = max(value.rfind(" ", 0, url_start) + 1, 0) if url_start >= 0 else match.start()
                shown = value[start:match.start("value")] + mask(secret)
                return UrlSecret(shown, start, match.end())
    return None


def _url_message(found: UrlSecret) -> str:
    return (f"{found.kind} '{found.shown}' has a secret in it; build it from an environment variable (`os.environ`) or a "
            f"secrets manager, and rotate the secret: it is in the notebook's history")


def _named_message(kind: str, name: str, value: str) -> str:
    what = "password" if kind == "password" else "secret"
    scheme = _SCHEME.match(value.strip())
    shown = (value.strip()[:scheme.start("rest")] + mask(scheme["rest"])) if scheme else mask(value.strip())
    return f"Hardcoded {what} in `{name}` ('{shown}'); {FROM_ENVIRONMENT}"


def _token_message(label: str, token: str) -> str:
    if token.startswith("https://"):  # a webhook: the secret is its last part
        head, _, secret = token.rstrip("/").rpartition("/")
        return f"{label} '{head}/{mask(secret)}' is hardcoded; {FROM_ENVIRONMENT}"
    return f"{label} '{mask(token)}' is hardcoded; {FROM_ENVIRONMENT}"


_LOGIN_CALLS = {"login", "HTTPBasicAuth", "HTTPDigestAuth", "HTTPProxyAuth", "BasicAuth", "auth_plain"}


def _login_argument(facts, node: ast.AST, resolve) -> tuple[str, str] | None:
    """`smtp.login(user, "S3cret")`, `HTTPBasicAuth("ana", "S3cret")`, `wandb.login(key="...")`:
    (the call's name, "password" or "secret") for a literal passed as the credential."""
    parent = facts.parent(node)
    call = facts.parent(parent) if isinstance(parent, ast.keyword) else parent
    if not isinstance(call, ast.Call):
        return None
    func = call.func
    if (func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", None)) not in _LOGIN_CALLS:
        return None
    callee = resolve(func) or ""
    last = callee.rsplit(".", 1)[-1]
    if last not in _LOGIN_CALLS:
        return None
    if isinstance(parent, ast.keyword):
        return (last, "secret") if parent.arg in ("key", "api_key", "token") else None
    if len(call.args) >= 2 and call.args[1] is node:
        return last, "password"
    return None


def _auth_pair(facts, node: ast.AST, resolve) -> str | None:
    """`auth=("ana", "S3cret")`, `login = ("ana", "S3cret")`: the name the (user, password) pair is given."""
    pair = facts.parent(node)
    if not (isinstance(pair, ast.Tuple) and len(pair.elts) == 2 and pair.elts[1] is node):
        return None
    name = holder_name(facts, pair, resolve)
    words = name_words(name) if name else ()
    return name if any(word in ("auth", "credentials", "creds", "login", "basic") for word in words) else None


@dataclass(frozen=True)
class SecretSighting:
    code: str
    cell: CellModel
    span: Span
    message: str
    secret: str = ""  # the value itself: the same secret written again in a cell is one finding


def cell_secrets(model: NotebookModel, cell: CellModel) -> tuple[tuple[str, Span, str], ...]:
    """(code, span, message) of every secret in a code cell, one per literal (or per magic-line token)
    and per value; computed once for the three rules, and kept with the cell's facts."""
    facts = cell.facts
    if not facts.strings and not facts.python.magics and not (facts.python.code is None and facts.python.cell_magic):
        return ()  # nothing a secret could be written in
    # Kept as `model.per_cell` keeps its results, with one difference: a cell whose reading resolved no
    # name (most cells) holds for any imports, so identical cells of notebooks that import differently
    # share it (context None), and the notebook's import table is not even built for them.
    entry = facts.memo.get("secrets")
    if entry is not None and (entry[0] is None or entry[0] == model.imports_key):
        return entry[1]
    resolved: list[ast.AST] = []

    def resolve(node: ast.AST) -> str | None:
        resolved.append(node)
        return model.resolve(node)

    found = _once_per_secret(_cell_sightings(cell, resolve))
    facts.memo["secrets"] = (model.imports_key if resolved else None, found)
    return found


def _once_per_secret(sightings: list[SecretSighting]) -> tuple[tuple[str, Span, str], ...]:
    """One finding per secret and cell: where the same value is written again, the first names the others."""
    if not sightings:
        return ()
    first: dict[tuple[str, str], int] = {}
    again: dict[int, list[int]] = {}
    kept: list[SecretSighting] = []
    for sighting in sightings:
        key = (sighting.code, sighting.secret)
        if sighting.secret and key in first:
            again.setdefault(first[key], []).append(sighting.span.line)
            continue
        first[key] = len(kept)
        kept.append(sighting)
    found = []
    for index, sighting in enumerate(kept):
        message = sighting.message
        lines = sorted(set(again.get(index, ())) - {sighting.span.line})
        if lines:
            listed = ", ".join(map(str, lines[:-1])) + (" and " if len(lines) > 1 else "") + str(lines[-1])
            message += f" (the same value is also on line{'s' if len(lines) > 1 else ''} {listed} of this cell)"
        found.append((sighting.code, sighting.span, message))
    return tuple(found)


def _cell_sightings(cell: CellModel, resolve) -> list[SecretSighting]:
    facts = cell.facts
    found: list[SecretSighting] = []
    for magic in facts.python.magics:
        found.extend(_magic_sightings(cell, magic))
    if facts.python.code is None and facts.python.cell_magic and written_module(facts.source) is None:
        found.extend(_body_sightings(cell))  # %%bash, %%sql, %%writefile .env: a secret in any language
    if facts.strings:
        aws_key_id = False
        parents, magic_lines = facts.parents, facts.python.magic_lines
        naming, interesting, Expr = _NAMING_PARENTS, _INTERESTING.search, ast.Expr
        for node in facts.strings:
            value = node.value
            if len(value) < 6:
                continue
            parent = parents.get(node)
            kind = type(parent)
            if kind is Expr:
                continue  # a docstring or a note
            if kind not in naming and "://" not in value and ";" not in value and (
                    len(value) < _SHORTEST_TOKEN or not interesting(value)):
                continue  # given to no name, and no token nor URL: the common case, decided here
            if magic_lines and on_magic_line(facts, node):
                continue  # a transformed magic line (read through facts.magics)
            secret = _literal_secret(resolve, facts, node, value, parent)
            if secret is not None:
                aws_key_id = aws_key_id or secret[1].startswith("AWS access key id")
                found.append(SecretSighting(secret[0], cell, facts.span(literal_node(facts, node)), secret[1], value))
        if aws_key_id:
            # The other half of the pair: 40 characters of base64 beside a key id, whatever its name.
            for node in facts.strings:
                if _AWS_SECRET.fullmatch(node.value) and not on_magic_line(facts, node) and \
                        _literal_secret(resolve, facts, node, node.value, parents.get(node)) is None:
                    message = _token_message("AWS secret access key", node.value)
                    found.append(SecretSighting("RP603", cell, facts.span(literal_node(facts, node)), message,
                                                node.value))
    return found


# Where a literal can be given a name that holds a secret (`holder_name`, `_login_argument`, `_auth_pair`).
_NAMING_PARENTS = frozenset({ast.Assign, ast.AnnAssign, ast.NamedExpr, ast.keyword, ast.Dict, ast.arguments,
                             ast.Tuple, ast.Call, ast.BoolOp, ast.IfExp})


def _literal_secret(resolve, facts, node: ast.Constant, value: str, parent) -> tuple[str, str] | None:
    """(code, message) for the secret a string literal holds, if any: one finding per literal."""
    if "://" in value or ";" in value:
        url = credentials_in_url(value)
        if url:
            return "RP602", _url_message(url)
    interesting = _INTERESTING.search(value) if len(value) >= _SHORTEST_TOKEN else None
    if not interesting and (type(parent) not in _NAMING_PARENTS or _secret_part(value) is None):
        return None  # neither a token, nor a secret's shape given to a name: spare the name lookups
    name = holder_name(facts, node, resolve)
    kind = secret_kind(name)
    if kind is None:
        parent_type = type(parent)
        login = _login_argument(facts, node, resolve) if parent_type is ast.Call or parent_type is ast.keyword else None
        if login is not None:
            name, kind = login
        elif name is None and parent_type is ast.Tuple:
            name = _auth_pair(facts, node, resolve)
            kind = "password" if name else None
    token = known_token(value) if interesting else None
    if kind and (token or looks_real(value, kind)):
        return "RP601", _named_message(kind, name, value)
    if interesting:
        header = _AUTHORIZATION.search(value)
        if header and looks_real(header["secret"], "secret"):
            return "RP601", _named_message("secret", "Authorization", header["secret"])
    if token:
        return "RP603", _token_message(*token)
    return None


def _magic_sightings(cell: CellModel, magic: MagicLine):
    whole = " ".join((magic.args, *magic.continuation))
    if not (_INTERESTING.search(whole) or _SECRET_HINT.search(whole) or "@" in whole):
        return
    texts = [(magic.args, magic.line, magic.column)]
    texts += [(text, magic.line + offset, 1) for offset, text in enumerate(magic.continuation, start=1)]
    seen: set[tuple[int, int]] = set()
    for text, line, column in texts:
        for match in _AUTHORIZATION.finditer(text):
            if looks_real(match["secret"], "secret"):
                start = column + match.start("secret")
                seen.add((line, start))
                yield SecretSighting("RP601", cell, Span(line, start, line, column + match.end()),
                                     _named_message("secret", "Authorization", match["secret"]))
    previous: str | None = None
    for token, line, column in magic_tokens(magic):
        url = credentials_in_url(token)
        if url:
            seen.add((line, column + url.start))
            span = Span(line, column + url.start, line, column + url.end)
            yield SecretSighting("RP602", cell, span, _url_message(url), token)
            continue
        name, value, start = None, token, column
        if "=" in token and "://" not in token.split("=", 1)[0]:
            name, _, value = token.partition("=")
            start = column + len(name) + 1
        elif previous is not None and (previous.startswith("-") or magic.name in ("env", "set_env")):
            name = previous
        previous = token
        if not value or any(start <= s < start + len(value) and l == line for l, s in seen):
            continue
        span = Span(line, start, line, start + len(value))
        kind = secret_kind(name.lstrip("-")) if name else None
        found = known_token(value)
        if kind and (found or looks_real(value, kind)):
            yield SecretSighting("RP601", cell, span, _named_message(kind, name.lstrip("-"), value), value)
        elif found:
            yield SecretSighting("RP603", cell, span, _token_message(*found), value)


# `NAME=value`, `name: value`, `export NAME="value"`, `"name": "value"` in a body of another language.
_BODY_ASSIGNMENT = _LazyPattern(
    r"(?P<name>[A-Za-z_][\w.-]*)[\"']?[ \t]*[:=][ \t]*[\"']?(?P<value>[^\s\"',;#<>]+)")
_BODY_WORD = _LazyPattern(r"[^\s'\"`<>]+")


def _body_sightings(cell: CellModel):
    """Secrets in the body of a cell in another language (`%%bash`, `%%sql`, `%%writefile config.yaml`):
    names that hold a secret, tokens of a known shape, URLs with a password."""
    lines = cell.facts.source.splitlines()
    for line_number, text in enumerate(lines[1:], start=2):
        if len(text) < 8 or not (_INTERESTING.search(text) or _SECRET_HINT.search(text) or "@" in text or
                                 "=" in text and ";" in text or "?" in text):
            continue
        taken: list[tuple[int, int]] = []
        for match in _BODY_ASSIGNMENT.finditer(text):
            name, value = match["name"], match["value"]
            kind = secret_kind(name)
            if kind and (known_token(value) or looks_real(value, kind)):
                start = match.start("value")
                taken.append((start, match.end("value")))
                span = Span(line_number, start + 1, line_number, match.end("value") + 1)
                yield SecretSighting("RP601", cell, span, _named_message(kind, name, value), value)
        for match in _BODY_WORD.finditer(text):
            word, start = match.group(), match.start()
            if any(a < match.end() and start < b for a, b in taken):
                continue  # reported under its name
            url = credentials_in_url(word) if ("://" in word or ";" in word) else None
            if url:
                span = Span(line_number, start + url.start + 1, line_number, start + url.end + 1)
                yield SecretSighting("RP602", cell, span, _url_message(url), word)
                continue
            found = known_token(word) if _INTERESTING.search(word) else None
            if found:
                offset = word.find(found[1])
                span = Span(line_number, start + offset + 1, line_number, start + offset + len(found[1]) + 1)
                yield SecretSighting("RP603", cell, span, _token_message(*found), found[1])


class _SecretRule(Rule):
    """What the three secret rules share: each code cell is read once for all three (`cell_secrets`), and
    each rule keeps the secrets of its code."""

    category = "hardcoded-secret"
    severity = Severity.ERROR
    visits_cells = True
    unparsed_cells_too = True  # its findings can sit in a cell that does not parse
    reads = ("import aliases",)  # `os.getenv(...)`, `smtp.login(...)` whatever they are imported as

    def visit_cell(self, cell: CellModel, model: NotebookModel):
        found = cell_secrets(model, cell)
        if not found:
            return ()
        code = self.code
        return [self.finding(cell, span, message, FIX) for kind, span, message in found if kind == code]


class HardcodedSecret(_SecretRule):
    """## What it does
    Reports a literal that is given to a name that holds a secret: `api_key`, `API_TOKEN`,
    `password`, `client_secret`, `auth_token`, an `Authorization` header, in an assignment, a keyword
    argument, a dict entry, a default, `%env` or a `--password` option, when the value looks real.
    The message shows only the first four characters.

    Values read with `os.environ`, `os.getenv`, `getpass` or keyring are not reported, nor names that
    are about secrets without holding one (`tokenizer`, `max_tokens`, `password_reset_count`),
    placeholders (`"<your-key>"`, `"YOUR_API_KEY"`, `"changeme"`, `"${API_KEY}"`), file names and
    short or prose values.

    A secret is a secret in any language: `NAME=value` and `name: value` lines of `%%bash`, `%%sql` or
    `%%writefile .env`/`config.yaml` cells are read too, and a `%%writefile x.py` cell as the module it
    writes. The same value written again in one cell is one finding, which names the other lines (for
    this rule and the two below).

    ## Why is this bad?
    Anyone who can read the notebook, its git history or a shared copy can use the credential;
    the notebook cannot be run with other credentials without editing it, and the secret has to
    be rotated once it was committed.

    ## Example
    ```python
    import requests

    API_KEY = "sk-live-4f9a8b7c6d5e4f3a2b1c0d9e"
    weather = requests.get("https://api.example.com/v1/history", params={"key": API_KEY})
    ```

    ## Use instead
    ```python
    import os

    import requests

    API_KEY = os.environ["WEATHER_API_KEY"]
    weather = requests.get("https://api.example.com/v1/history", params={"key": API_KEY})
    ```
    """

    code = "RP601"
    name = "hardcoded-secret"
    category = "hardcoded-secret"
    severity = Severity.ERROR



class CredentialsInUrl(_SecretRule):
    """## What it does
    Reports a URL with a password in it, such as a database connection string
    `postgresql://analyst:S3cretPass@db.internal:5432/sales`, a `mongodb+srv://` URI or a git remote
    with a token, in code or in `%sql`/`!git` lines; also an API key in a URL's query string
    (`?api_key=...`) and a `Password=` or `AccountKey=` in an ODBC or Azure connection string. URLs without a password, and URLs whose password
    is a placeholder or comes from a variable (`f"postgresql://{user}:{password}@{host}/db"`), are
    not reported.

    ## Why is this bad?
    The password travels with the notebook, its outputs and its history; the database cannot be
    switched (test, production) without editing code, and the password must be rotated.

    ## Example
    ```python
    from sqlalchemy import create_engine

    engine = create_engine("postgresql://analyst:S3cretPass@db.internal:5432/sales")
    ```

    ## Use instead
    ```python
    import os

    from sqlalchemy import create_engine

    engine = create_engine(os.environ["SALES_DATABASE_URL"])
    ```
    """

    code = "RP602"
    name = "credentials-in-url"
    category = "hardcoded-secret"
    severity = Severity.ERROR



class KnownTokenFormat(_SecretRule):
    """## What it does
    Reports a token recognised by its shape wherever it appears, even under a name that does not
    say so: AWS access key ids (`AKIA...`), GitHub (`ghp_...`, `github_pat_...`), GitLab, Slack
    (`xoxb-...`) tokens, Slack and Discord webhook URLs with their secret, OpenAI-style keys
    (`sk-...`), Stripe keys, Google API keys (`AIza...`), Hugging Face tokens (`hf_...`), JSON Web
    Tokens (`eyJ...`) and private key blocks. Documented examples (`AKIAIOSFODNN7EXAMPLE`) and
    `xxxx` placeholders are not reported.

    ## Why is this bad?
    These are live credentials: bots scan public repositories for exactly these shapes within
    minutes of a push. Revoke the token and load it from the environment.

    ## Example
    ```python
    from huggingface_hub import login

    login("hf_Q7xk2LmP9rT4vW8yZ3aB6cD1eF5gH0jKsN")
    ```

    ## Use instead
    ```python
    import os

    from huggingface_hub import login

    login(os.environ["HF_TOKEN"])
    ```
    """

    code = "RP603"
    name = "known-token-format"
    category = "hardcoded-secret"
    severity = Severity.ERROR



RULES = (HardcodedSecret, CredentialsInUrl, KnownTokenFormat)
