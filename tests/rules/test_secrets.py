"""hardcoded-secret: RP601 (secret names), RP602 (credentials in URLs), RP603 (known token formats)."""
import pytest

from tests.helpers import codes_for, findings_for


def rp6(cells):
    return codes_for(cells if isinstance(cells, list) else [cells], select="RP6")


def codes(source):
    return [code for code, _, _ in rp6(source)]


# ---------------------------------------------------------------- RP601: found

@pytest.mark.parametrize("source", [
    'API_KEY = "sk-live-4f9a8b7c6d5e4f3a2b1c0d9e8f7a6b5c"',
    'api_key = "AZOBAQ2SK8AC1MUD7Q3X"',
    'API_TOKEN = "a94a8fe5ccb19ba61c4c0873d391e987982fbbd3"',
    'password = "S3cretPass"',
    'DB_PASSWORD = "analytics"',
    'passwd = "hunter22"',
    'client_secret = "Zx8_Qp3v-Lm9Rt2Ks7Wn4Yb6"',
    'auth_token = "9f8e7d6c5b4a39281706f5e4d3c2b1a0"',
    'SECRET_KEY = "django-insecure-7h$k2l9x0q3w8e5r"',
    'AWS_SECRET_ACCESS_KEY = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYzzKEY93xq1"',
    'openai.api_key = "sk-proj-Ab3dEf6hIj9kLm2nOp5qRs8t"',
    'client = OpenAI(api_key="sk-proj-Ab3dEf6hIj9kLm2nOp5qRs8t")',
    'conn = pymysql.connect(host="db", user="ana", password="S3cretPass")',
    'config = {"user": "ana", "password": "S3cretPass"}',
    'os.environ["OPENAI_API_KEY"] = "sk-abcdefghijklmnop1234567890"',
    'key = os.getenv("WEATHER_API_KEY", "a8f5f167f44f4964e6c998dee827110c")',
    'key = os.environ.get("WEATHER_API_KEY") or "a8f5f167f44f4964e6c998dee827110c"',
    'headers = {"Authorization": "Bearer abcDEF1234567890xyzXYZ"}',
    'headers = {"X-API-Key": "abc123def456ghi789"}',
    'r = requests.get(url, auth=("ana", "S3cretPass"))',
    'user, password = "ana", "S3cretPass"',
    'smtp.login("ana@example.com", "S3cretPass")',
    'auth = HTTPBasicAuth("ana", "S3cretPass")',
    'wandb.login(key="a1b2c3d4e5f6a7b8c9d0e1f2a3b4c5d6e7f8a9b0")',
    'def connect(password="S3cretPass"):\n    pass',
    'class Config:\n    API_KEY = "9f8e7d6c5b4a39281706f5e4d3c2b1a0"',
    'ds = load_dataset("x", use_auth_token="hf_Q7xk2LmP9rT4vW8yZ3aB6cD1eF5gH0jKsN")',
    '%env OPENAI_API_KEY=sk-abcdefghijklmnop1234567890',
    '%set_env HF_TOKEN hf_Q7xk2LmP9rT4vW8yZ3aB6cD1eF5gH0jKsN',
    '!curl -H "Authorization: Bearer abcDEF1234567890xyzXYZ" https://api.example.com',
])
def test_secrets_under_secret_names_are_found(source):
    assert codes(source) == ["RP601"]


def test_message_masks_the_secret_and_says_what_to_do():
    [finding] = findings_for(['import os\nAPI_KEY = "sk-live-4f9a8b7c6d5e4f3a2b1c0d9e8f7a6b5c"  # weather'], "RP601")
    assert (finding.line, finding.column, finding.end_line, finding.end_column) == (2, 11, 2, 53)
    assert "sk-live-4f9a8b7c6d5e4f3a2b1c0d9e8f7a6b5c" not in finding.message
    assert "'sk-l…'" in finding.message and "`API_KEY`" in finding.message
    assert "environment variable" in finding.message
    assert finding.fix.applicability == "unsafe"
    assert finding.category == "hardcoded-secret" and finding.severity.value == "error"


def test_header_mask_keeps_the_scheme_only():
    [finding] = findings_for(['headers = {"Authorization": "Bearer abcDEF1234567890xyzXYZ"}'], "RP601")
    assert "Bearer abcD…" in finding.message and "1234567890" not in finding.message


def test_position_in_a_magic_line():
    [finding] = findings_for(["x = 1\n%env OPENAI_API_KEY=sk-abcdefghijklmnop1234567890"], "RP601")
    assert (finding.line, finding.column, finding.end_column) == (2, 21, 50)
    assert "abcdefghijklmnop" not in finding.message


# ---------------------------------------------------------------- RP601: not found

@pytest.mark.parametrize("source", [
    'import os\napi_key = os.environ["API_KEY"]',
    'api_key = os.getenv("API_KEY")',
    'analytics_token = os.environ.get("ANALYTICS_API_TOKEN", "")',
    'password = getpass.getpass("Password: ")',
    'token = keyring.get_password("service", "ana")',
    'tokenizer = AutoTokenizer.from_pretrained("bert-base-uncased")',
    'tokenizer_name = "bert-base-uncased-v2-2024"',
    'max_tokens = 256',
    'num_tokens = "1024"',
    'token_count = len(tokens)',
    'password_reset_count = int(df["password_reset_count"].sum())',
    'password_field = "password"',
    'PASSWORD_COLUMN = "user_password_hash"',
    'API_KEY = ""',
    'API_KEY = "<your-key>"',
    'API_KEY = "YOUR_API_KEY"',
    'OPENAI_API_KEY = "sk-..."',
    'api_key = "PINECONE_API_KEY"',
    'COHERE_API_KEY = "<<YOUR_KEY>>"',
    'PINECONE_API_KEY = "YOUR PINECONE API KEY HERE"',
    'password = "xxx"',
    'password = "changeme"',
    'secret = "***"',
    'API_KEY = "${API_KEY}"',
    'SECRET_KEY = "not a real secret"',
    'secret = "dev"',
    'pad_token = "[PAD]"',
    'special_tokens = {"pad_token": "<pad>", "eos_token": "</s>"}',
    'vec = TfidfVectorizer(token_pattern=r"(?u)\\b\\w\\w+\\b")',
    'token_type = "bearer"',
    'token_url = "https://oauth.example.com/token"',
    'token = "access_token"',
    'memory_key = "chat_history"',
    'primary_key = "customer_id_2024"',
    'sort_key = "created_at_2024_q1"',
    'key_file = "secrets/service-account.json"',
    'GOOGLE_APPLICATION_CREDENTIALS = "service-account.json"',
    'aws_secret = "arn:aws:secretsmanager:us-east-1:123456789012:secret:prod/db-AbCdEf"',
    'secret_name = "prod/warehouse/password"',
    'secret = dbutils.secrets.get(scope="warehouse", key="api-key")',
    'model = AutoModel.from_pretrained("x", revision="a1b2c3d4e5f6a7b8c9d0e1f2a3b4c5d6e7f8a9b0")',
    'DATA_SNAPSHOT = "9c1f3e7a2b4d6c8e0f1a3b5c7d9e2f4a6b8c0d1e"',
    'sha256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"',
    'EMPTY_MD5 = "d41d8cd98f00b204e9800998ecf8427e"',
    'api_key = "d41d8cd98f00b204e9800998ecf8427e"',
    'checksum = "5d41402abc4b2a76b9719d911017c592"',
    'API_URL = "https://api.example.com/v1/history"',
    'auth_domain = "myapp.firebaseapp.com"',
    'headers = {"Authorization": f"Bearer {API_KEY}"}',
    '# API_KEY = "sk-live-4f9a8b7c6d5e4f3a2b1c0d9e8f7a6b5c"',
    'print("Set your password in the settings page")',
    'prompt = "Enter the API token:"',
    'passage = "It was the best of times, it was the worst of times"',
    '%env OPENAI_API_KEY=$KEY',
])
def test_near_misses_are_not_found(source):
    assert rp6(source) == []


def test_markdown_is_not_code():
    cells = [{"cell_type": "markdown", "source": 'Set `API_KEY = "sk-live-4f9a8b7c6d5e4f3a2b1c0d9e8f7a6b5c"`'}]
    assert rp6(cells) == []


# ---------------------------------------------------------------- RP602

@pytest.mark.parametrize("source", [
    'DB_URL = "postgresql://analyst:S3cretPass@db.internal:5432/sales"',
    'engine = create_engine("mysql+pymysql://ana:S3cretPass@localhost/shop")',
    'client = MongoClient("mongodb+srv://admin:Adm1nPass@cluster0.abcd.mongodb.net/test")',
    'r = redis.from_url("redis://:S3cretPass@cache:6379/0")',
    'REPO = "https://ana:ghp_abcdefghijklmnopqrstuvwxyz0123456789@github.com/acme/x.git"',
    'url = "https://api.example.com/v1/weather?q=berlin&appid=3f9a8b7c6d5e4f3a2b1c0d9e8f7a6b5c"',
    '%sql postgresql://analyst:S3cretPass@db.internal:5432/sales',
    '!git clone https://ana:ghp_abcdefghijklmnopqrstuvwxyz0123456789@github.com/acme/x.git',
])
def test_credentials_in_urls_are_found(source):
    assert codes(source) == ["RP602"]


def test_credentials_url_message_masks_the_password():
    [finding] = findings_for(['DB_URL = "postgresql://analyst:S3cretPass@db.internal:5432/sales"'], "RP602")
    assert "S3cretPass" not in finding.message
    assert "postgresql://analyst:S3cr…@db.internal" in finding.message
    assert (finding.line, finding.column, finding.end_column) == (1, 10, 66)
    [magic] = findings_for(["%sql postgresql://analyst:S3cretPass@db.internal:5432/sales"], "RP602")
    assert (magic.line, magic.column, magic.end_column) == (1, 6, 49)


@pytest.mark.parametrize("source", [
    'engine = create_engine(os.environ["DATABASE_URL"])',
    'url = f"postgresql://{user}:{password}@{host}/sales"',
    'url = "postgresql://user:password@localhost/db"',
    'url = "postgresql://<user>:<password>@host/db"',
    'url = "postgresql://analyst@db.internal:5432/sales"',
    'url = "amqp://guest:guest@localhost:5672/"',
    'url = "postgresql://%s:%s@%s/db" % (u, p, h)',
    'url = "https://example.com/data/x.csv"',
    'url = "https://example.com/search?q=pandas&page=2"',
    'url = "https://example.com/api?key=YOUR_API_KEY"',
    'r = requests.get("http://localhost:5000/api/v1/users")',
])
def test_urls_without_real_credentials(source):
    assert rp6(source) == []


# ---------------------------------------------------------------- RP603

@pytest.mark.parametrize("source", [
    'login("hf_Q7xk2LmP9rT4vW8yZ3aB6cD1eF5gH0jKsN")',
    'client = OpenAI("sk-proj-Ab3dEf6hIj9kLm2nOp5qRs8tUv1wXy4z")',
    'session = boto3.Session("AKIAQWERTYUIOPASDFGH", secret)',
    'g = Github("ghp_abcdefghijklmnopqrstuvwxyz0123456789")',
    'app = App("xoxb-123456789012-1234567890123-AbCdEfGhIjKlMnOpQrStUvWx")',
    'HOOK = "https://hooks.slack.com/services/T0123ABCD/B0123ABCD/abcdefghijklmnopqrstuvwx"',
    'requests.post("https://discord.com/api/webhooks/123456789012345678/AbCdEfGhIjKlMnOpQrStUvWxYz0123456789", json=m)',
    'gmaps = googlemaps.Client("AIzaSyA1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q")',
    'jwt = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U"',
    'PEM = """-----BEGIN RSA PRIVATE KEY-----\nMIIEpAIBAAKCAQEA\n-----END RSA PRIVATE KEY-----"""',
    'stripe.api_base_key_value = "sk_live_51HcD3fGhIjKlMnOpQrStUvWx"',
    '!huggingface-cli login --token hf_Q7xk2LmP9rT4vW8yZ3aB6cD1eF5gH0jKsN',
])
def test_known_token_formats_are_found(source):
    found = codes(source)
    assert found in (["RP603"], ["RP601"]) and len(found) == 1
    if "login --token" not in source and "api_base_key" not in source:
        assert found == ["RP603"]


def test_known_token_message():
    [finding] = findings_for(['g = Github("ghp_abcdefghijklmnopqrstuvwxyz0123456789")'], "RP603")
    assert finding.message.startswith("GitHub token 'ghp_…'")
    assert "abcdefghij" not in finding.message
    [hook] = findings_for(['H = "https://hooks.slack.com/services/T0123ABCD/B0123ABCD/abcdefghijklmnopqrstuvwx"'], "RP603")
    assert "T0123ABCD/B0123ABCD/abcd…" in hook.message and "qrstuvwx" not in hook.message


@pytest.mark.parametrize("source", [
    'AWS = "AKIAIOSFODNN7EXAMPLE"',
    'key = "AKIAXXXXXXXXXXXXXXXX"',
    'token = "ghp_xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"',
    'model_id = "sk-learn-model-v1234567890"',
    'name = "sklearn-pipeline-2024-05-01-final"',
    'commit = "9c1f3e7a2b4d6c8e0f1a3b5c7d9e2f4a6b8c0d1e"',
    'hf_model = "hf_internal_testing_model"',
    'slack = "https://hooks.slack.com/services/XXX/YYY/ZZZ"',
])
def test_known_format_near_misses(source):
    assert rp6(source) == []


def test_one_finding_per_literal():
    # a known-format token under a secret name is one RP601, not also an RP603
    assert rp6('GITHUB_TOKEN = "ghp_abcdefghijklmnopqrstuvwxyz0123456789"') == [("RP601", 0, 1)]
    # a URL with a password under a secret-looking name is one RP602
    assert rp6('DATABASE_PASSWORD_URL = "postgresql://a:S3cretPass@h/db"') == [("RP602", 0, 1)]


def test_aws_secret_beside_a_key_id_whatever_its_name():
    cells = ['session = boto3.Session("AKIAQWERTYUIOPASDFGH", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYzzKEY93xq1")']
    assert rp6(cells) == [("RP603", 0, 1), ("RP603", 0, 1)]
    messages = [f.message for f in findings_for(cells, "RP603")]
    assert any(m.startswith("AWS secret access key 'wJal…'") for m in messages)
    # 40 characters of base64 alone (no key id in the cell) are not enough
    assert rp6(['blob = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYzzKEY93xq1"']) == []


@pytest.mark.parametrize("source", [
    'conn = pyodbc.connect("DRIVER={ODBC Driver 18};SERVER=db.internal;UID=ana;PWD=S3cretPass;")',
    'CONN = "Server=tcp:acme.database.windows.net;Database=sales;User ID=ana;Password=S3cretPass;"',
    'STORAGE = "DefaultEndpointsProtocol=https;AccountName=acme;AccountKey=Zm9vYmFyYmF6cXV4MTIz==;EndpointSuffix=core.windows.net"',
])
def test_connection_strings_with_a_password(source):
    assert codes(source) == ["RP602"]
    assert "S3cretPass" not in findings_for([source], "RP602")[0].message


@pytest.mark.parametrize("source", [
    'conn = pyodbc.connect(f"DRIVER={{ODBC Driver 18}};SERVER={server};UID={user};PWD={password};")',
    'CONN = "Server=tcp:acme.database.windows.net;Database=sales;Authentication=ActiveDirectoryInteractive;"',
    'CONN = "Server=db;Database=sales;Password=<password>;"',
])
def test_connection_strings_without_one(source):
    assert rp6(source) == []


# ---------------------------------------------------------------- one secret, one finding per cell

def test_the_same_secret_written_again_in_a_cell_is_one_finding_naming_the_other_lines():
    cell = ('a = web.DataReader("AAPL", "av-daily", api_key="AZOBAQ2SK8AC1MUD")\n'
            'b = web.DataReader("IBM", "av-daily", api_key="AZOBAQ2SK8AC1MUD")\n'
            'c = web.DataReader("MSFT", "av-daily", api_key="AZOBAQ2SK8AC1MUD")\n')
    [finding] = findings_for([cell], select="RP601")
    assert finding.line == 1 and finding.message.endswith("(the same value is also on lines 2 and 3 of this cell)")
    two_secrets = 'a = f(api_key="AZOBAQ2SK8AC1MUD")\nb = f(api_key="QW3RTY7UIOP9ASDF")\n'
    assert rp6([two_secrets]) == [("RP601", 0, 1), ("RP601", 0, 2)]
    two_cells = ['a = f(api_key="AZOBAQ2SK8AC1MUD")', 'b = f(api_key="AZOBAQ2SK8AC1MUD")']
    assert rp6(two_cells) == [("RP601", 0, 1), ("RP601", 1, 1)]  # each cell must be fixed


# ---------------------------------------------------------------- other languages and written files

@pytest.mark.parametrize("source, expected", [
    ("%%bash\nexport OPENAI_API_KEY=sk-proj-Ab3dEf6hIj9kLm2nOp5qRs8t\npython train.py\n", [("RP601", 0, 2)]),
    ("%%writefile .env\nDB_PASSWORD=S3cretPass\n", [("RP601", 0, 2)]),
    ("%%writefile config.yaml\ndatabase:\n  password: S3cretPass\n", [("RP601", 0, 3)]),
    ("%%sh\ngit clone https://ghp_a1B2c3D4e5F6g7H8i9J0k1L2m3N4o5P6q7R8@github.com/org/repo\n", [("RP603", 0, 2)]),
    ("%%sql\nCONNECT postgresql://analyst:S3cretPass@db.internal:5432/sales\n", [("RP602", 0, 2)]),
    ("%%html\n<script>const apiKey = 'AIzaSyA1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q';</script>\n", [("RP601", 0, 2)]),
    ('%%writefile app.py\nimport os\nAPI_KEY = "sk-proj-Ab3dEf6hIj9kLm2nOp5qRs8t"\n', [("RP601", 0, 3)]),
])
def test_secrets_in_cells_of_other_languages_and_in_written_files_are_found(source, expected):
    assert rp6([source]) == expected


@pytest.mark.parametrize("source", [
    "%%bash\nexport OPENAI_API_KEY=$OPENAI_API_KEY\npython train.py --token \"$HF_TOKEN\"\n",
    "%%writefile config.yaml\ndatabase:\n  password: ${DB_PASSWORD}\n  user: analyst\n",
    "%%writefile .env.example\nOPENAI_API_KEY=your-key-here\n",
    "%%sql\nSELECT token_count, password_reset_count FROM users WHERE api_key_id = 42\n",
    "%%bash\ngit clone https://github.com/org/repo\ncurl -H 'Authorization: Bearer $TOKEN' https://api.example.com\n",
])
def test_placeholders_and_lookups_in_other_languages_are_not_secrets(source):
    assert rp6([source]) == []


def test_a_pattern_compiled_on_first_use_matches_as_the_compiled_one():
    import re

    from readiness_magics.rules.secrets import _LazyPattern

    lazy = _LazyPattern(r"(?P<word>k\w+)", re.IGNORECASE)
    assert "search" not in vars(lazy)  # nothing compiled yet
    assert lazy.search("a Key here")["word"] == "Key"
    assert [match.group() for match in lazy.finditer("key kit")] == ["key", "kit"]
    assert lazy.fullmatch("kx") and not lazy.match("xk") and lazy.pattern == r"(?P<word>k\w+)"


def test_a_cell_shared_by_notebooks_is_read_with_each_notebooks_imports():
    # The same cell source shares its facts (and what rules keep with them) across notebooks; a cell whose
    # reading resolved a name must be read again where the imports differ.
    cell = 'login("ana", "S3cretPassw0rd")'
    logs_in = ["from service import login", cell]
    does_not = ["from service import authenticate as login", cell]
    assert codes(logs_in) == ["RP601"]
    assert codes(does_not) == []
    assert codes(logs_in) == ["RP601"]


def test_no_known_token_nor_authorization_header_is_shorter_than_the_figure_the_rule_skips_by():
    import re._parser

    from readiness_magics.rules import secrets

    patterns = [pattern for _, pattern in secrets.KNOWN_TOKENS] + [secrets._AUTHORIZATION]
    shortest = min(re._parser.parse(pattern.pattern, pattern.flags).getwidth()[0] for pattern in patterns)
    assert shortest == secrets._SHORTEST_TOKEN
