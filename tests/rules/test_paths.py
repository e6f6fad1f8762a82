"""hardcoded-path: RP101 (local, user-specific paths) and RP102 (cloud URIs)."""
import pytest

from readiness_magics.config import Settings
from tests.helpers import codes_for, findings_for


def rp1(cells, **kwargs):
    return codes_for(cells if isinstance(cells, list) else [cells], select="RP1", **kwargs)


# ---------------------------------------------------------------- RP101: found

@pytest.mark.parametrize("source", [
    'DATA_DIR = "/home/ana/projects/churn/data"',
    'df = pd.read_csv("/Users/ana/Downloads/churn.csv")',
    'df = pd.read_csv("/kaggle/input/titanic/train.csv")',
    'df = pd.read_csv("/content/drive/MyDrive/sales.csv")',
    'model.save("/mnt/models/churn.pkl")',
    'raw_path = os.path.join("/data/raw", name)',
    'cfg = open("/root/.config/app.yml")',
    'sys.path.append("/home/ana/lib")',
    'sys.path.insert(0, "/opt/project/src")',
    'df = pd.read_csv(f"/home/{user}/sales.csv")',
    'p = Path("/srv/shared") / "x.csv"',
    'df = pd.read_csv("C:\\\\Users\\\\ana\\\\data.csv")',
    'df = pd.read_csv(r"C:\\Users\\ana\\data.csv")',
    'df = pd.read_csv("D:/datasets/x.csv")',
    'df = pd.read_csv("\\\\\\\\fileserver\\\\share\\\\x.csv")',
    'df = pd.read_csv("~/Desktop/sales.csv")',
    'home = os.path.expanduser("~")',
    'MODEL_DIR = os.path.expanduser("~/models/review-sentiment")',
    'path = "/data/raw/{}.csv".format(day)',
    'path = "/home/ana/" + name',
    'for root, dirs, files in os.walk("/kaggle/input"):\n    pass',
    'data = os.environ.get("DATA_DIR", "/home/ana/data")',
    'engine = create_engine("sqlite:////home/ana/sales.db")',
    'def load(path="/Users/ana/x.csv"):\n    return pd.read_csv(path)',
])
def test_machine_specific_paths_are_found(source):
    assert [(code, cell) for code, cell, _ in rp1(source)] == [("RP101", 0)]


@pytest.mark.parametrize("source", [
    'open("/etc/app.conf")',
    'df.to_csv("/tmp/out.csv")',
    'OUT = "/tmp/out.csv"\ndf.to_csv(OUT)',
    'LOG_DIR = "/var/log/app"',
    'settings = {"output_dir": "/var/lib/app"}',
    'run(cache_dir="/var/cache/x")',
    'cascade = cv2.CascadeClassifier("/usr/local/share/opencv4/haarcascades/face.xml")',
    'os.chdir("/data")',
    'DATA = Path("/data")',
])
def test_other_absolute_paths_are_found_where_they_reach_io(source):
    assert [code for code, _, _ in rp1(source)] == ["RP101"]


def test_a_path_name_read_by_io_in_another_cell():
    cells = ['BASE = "/var/lib/app"', 'target = os.path.join(BASE, "x.csv")', 'df = pd.read_csv(target)']
    assert rp1(cells) == [("RP101", 0, 1)]


@pytest.mark.parametrize("source, line", [
    ("%cd /Users/ana/work/reviews", 1),
    ("!cp /data/a.csv .", 1),
    ("import os\nfiles = !ls /home/ana/data", 2),
    ("%run /home/ana/scripts/prepare.py", 1),
    ("%env DATA_DIR=/home/ana/data", 1),
    ("!wget -O /tmp/x.zip https://example.com/x.zip", 1),
    ("%%writefile /home/ana/lib/util.py\nx = 1", 1),
    ("!cp ~/Downloads/kaggle.json data/", 1),
    ("%time df = pd.read_csv('/data/raw/x.csv')", 1),
    ("%cd /content", 1),
])
def test_paths_in_ipython_lines_are_found(source, line):
    assert rp1(source) == [("RP101", 0, line)]


def test_positions_point_into_the_cell_as_written():
    [finding] = findings_for(['import pandas as pd\ndf = pd.read_csv("/home/ana/churn.csv")'], "RP101")
    assert (finding.line, finding.column, finding.end_line, finding.end_column) == (2, 18, 2, 39)
    assert "'/home/ana/churn.csv'" in finding.message and "parameter" in finding.message
    assert finding.fix.description == "Move the path to the parameters cell"
    assert finding.fix.applicability == "unsafe"
    assert finding.category == "hardcoded-path" and finding.severity.value == "error"
    [magic] = findings_for(["x = 1\n%cd /Users/ana/work"], "RP101")
    assert (magic.line, magic.column, magic.end_column) == (2, 5, 20)
    assert "`%cd`" in magic.message
    [shell] = findings_for(["!cp /data/a.csv ."], "RP101")
    assert (shell.line, shell.column, shell.end_column) == (1, 5, 16)


def test_an_fstring_is_reported_whole():
    [finding] = findings_for(['df = pd.read_csv(f"/home/{user}/x.csv")'], "RP101")
    assert "/home/{user}/x.csv" in finding.message
    assert (finding.column, finding.end_column) == (18, 39)


def test_one_finding_per_literal():
    assert rp1('p = os.path.join("/home/ana/data", "x.csv")\nq = pd.read_csv(p)') == [("RP101", 0, 1)]


# ---------------------------------------------------------------- RP101: not found

@pytest.mark.parametrize("source", [
    'df = pd.read_csv("data/churn.csv")',
    'df = pd.read_csv("./data/churn.csv")',
    'df = pd.read_csv("../data/churn.csv")',
    'df = pd.read_csv(os.path.join(DATA_DIR, "raw", "x.csv"))',
    'df = pd.read_csv(f"{DATA_DIR}/raw/x.csv")',
    'df = pd.read_csv(DATA_DIR + "/raw/x.csv")',
    'p = Path(DATA_DIR) / "raw" / "x.csv"',
    'p = os.path.join(os.environ["DATA_DIR"], "x.csv")',
    'with tempfile.TemporaryDirectory() as tmp:\n    df.to_csv(os.path.join(tmp, "x.csv"))',
    'tempfile.mkdtemp(dir="/tmp")',
    'subprocess.run(cmd, stdout=open("/dev/null", "w"))',
    'subprocess.run(cmd, stdout=open(os.devnull, "w"))',
    'r = requests.get("https://example.com/data/x.csv")',
    'r = requests.get(BASE_URL + "/api/v1/users")',
    'r = requests.get("/api/v1/users")',
    'r = session.post("/data/upload")',
    'url = urljoin(base, "/data/export")',
    '@app.route("/data")\ndef data():\n    return "ok"',
    'ENDPOINT = "/data/points"',
    'FUNNEL = ["/", "/pricing", "/signup", "/welcome"]',
    'BLOG_POST = re.compile(r"^/blog/[a-z0-9-]+/?$")',
    'm = re.match("/home/(\\\\w+)/", path)',
    'PATTERN = r"/home/\\w+/data"',
    'day = d.strftime("%Y/%m/%d")',
    'rate = total / 60',
    'key = "/".join(parts)',
    'parts = path.split("/")',
    'parts = path.split("/home/")',
    'is_colab = os.getcwd().startswith("/content")',
    '# df = pd.read_csv("/home/ana/x.csv")',
    'def f():\n    """Reads /home/ana/x.csv when run on the laptop."""\n    return 1',
    'mime = "text/plain"',
    'kind = "application/json"',
    'print("and/or", "km/h")',
    'speed_unit = "/s"',
    'x = "/"',
    'xpath = "//div[@class=\'title\']"',
    'device = "/gpu:0"',
    'print("/data is mounted read-only on the cluster")',
    'def f(x):\n    return x / 2',
    '%matplotlib inline',
    '!pip install -r requirements.txt',
    '!cat /proc/cpuinfo',
    '!ls /usr/local/cuda',
    '!cd ~',
    '!cp {DATA_DIR}/a.csv .',
    '%cd ..',
    '%%bash\ncp /home/ana/x.csv data/',
    'shell = "/bin/bash"',
    'subprocess.run(["/usr/bin/env", "python", "x.py"])',
])
def test_near_misses_are_not_found(source):
    assert rp1(source) == []


def test_markdown_and_outputs_are_not_code():
    cells = [
        {"cell_type": "markdown", "source": "Data lives in `/home/ana/data` and `s3://bucket/x`."},
        {"source": "x = 1", "execution_count": 1,
         "outputs": [{"output_type": "stream", "name": "stdout", "text": "/Users/ana/miniconda3/lib\n"}]},
    ]
    assert rp1(cells) == []


def test_parameters_cell_relative_defaults_and_names_read_from_it_are_fine():
    cells = [
        {"source": 'data_path = "data/churn.csv"\nout_dir = "/tmp/out"', "tags": ["parameters"]},
        "df = pd.read_csv(data_path)\ndf.to_csv(os.path.join(out_dir, 'x.csv'))",
    ]
    assert rp1(cells) == []


def test_parameters_cell_machine_specific_default_is_found():
    cells = [{"source": 'seed = 1\ndata_path = "/home/ana/churn.csv"', "tags": ["parameters"]},
             "df = pd.read_csv(data_path)"]
    [finding] = findings_for(cells, "RP101")
    assert (finding.cell_index, finding.line) == (0, 2)
    assert "parameters cell" in finding.message and "any" in finding.message


def test_allowed_path_prefixes_from_settings():
    settings = Settings(ruff=False, allowed_path_prefixes=("/opt/shared/",))
    assert rp1('df = pd.read_csv("/opt/shared/x.csv")', settings=settings) == []
    assert rp1('df = pd.read_csv("/opt/other/x.csv")', settings=settings) == [("RP101", 0, 1)]


def test_suppression_comment():
    assert rp1('DATA = "/home/ana/x.csv"  # readiness: ignore[RP101]') == []


# ---------------------------------------------------------------- RP102

@pytest.mark.parametrize("source", [
    'RAW_BUCKET = "s3://acme-iot-raw/plant-3/2024/"',
    'df = pd.read_parquet("s3a://acme/events/")',
    'df = pd.read_csv("gs://acme-data/x.csv")',
    'fs.open("gcs://acme/x.csv")',
    'df = spark.read.parquet("abfss://raw@acme.dfs.core.windows.net/events")',
    'df = pd.read_csv("az://container/x.csv")',
    'df = spark.read.csv("wasbs://c@acme.blob.core.windows.net/x.csv")',
    'rdd = sc.textFile("hdfs://namenode:8020/logs/2024/")',
    'df = spark.read.table("dbfs:/FileStore/tables/x")',
    'path = "s3://acme-data/" + key',
    'df = pd.read_csv(f"s3://acme-data/{day}.csv")',
])
def test_cloud_uris_are_found(source):
    assert rp1(source) == [("RP102", 0, 1)]


def test_cloud_uri_in_a_shell_line():
    [finding] = findings_for(["!aws s3 cp s3://acme-data/x.csv data/"], "RP102")
    assert (finding.line, finding.column, finding.end_column) == (1, 12, 32)
    assert "s3://acme-data/x.csv" in finding.message and "`!aws`" in finding.message


def test_cloud_uri_message_and_position():
    [finding] = findings_for(['import pandas as pd\nevents = pd.read_parquet("s3://acme/events/")'], "RP102")
    assert (finding.line, finding.column, finding.end_column) == (2, 26, 45)
    assert finding.message.startswith("Cloud URI 's3://acme/events/'") and "parameter" in finding.message


@pytest.mark.parametrize("source", [
    'path = f"s3://{bucket}/{key}"',
    'path = "s3://" + bucket + "/" + key',
    'path = "s3://%s/%s" % (bucket, key)',
    'is_s3 = uri.startswith("s3://")',
    'url = "https://acme-data.s3.amazonaws.com/x.csv"',
    'print("upload it to s3://acme later")',
])
def test_cloud_near_misses(source):
    assert rp1(source) == []


def test_cloud_uri_default_in_parameters_cell_is_where_it_belongs():
    cells = [{"source": 'events_uri = "s3://acme/events/"', "tags": ["parameters"]},
             "df = pd.read_parquet(events_uri)"]
    assert rp1(cells) == []


def test_path_home_is_expanduser_written_another_way():
    [finding] = findings_for(["from pathlib import Path\ncache = Path.home() / 'projects' / 'churn'"], "RP101")
    assert (finding.line, finding.column) == (2, 9)
    assert "Path.home()" in finding.message and "account" in finding.message
    assert rp1("import pathlib\nx = pathlib.Path.home()") == [("RP101", 0, 2)]
    assert rp1("home = team.home()") == []


def test_python_cell_magic_bodies_are_code():
    assert rp1('%%time\ndf = pd.read_csv("/home/ana/x.csv")') == [("RP101", 0, 2)]
    assert rp1("%%capture\n!cp /data/a.csv .") == [("RP101", 0, 2)]
    assert rp1("x = 1 \\\n  + 2\n!cp /data/a.csv .") == [("RP101", 0, 3)]


# ------------------------------------------- not every slash is a local path (issue 14, class 4)

@pytest.mark.parametrize("source", [
    # experiment trackers, model registries, datastores, hub ids and cloud resource names
    'model = mlflow.pyfunc.load_model("runs:/3f2a1b/model")',
    'model = mlflow.sklearn.load_model("models:/churn/Production")',
    'ds = Dataset.File.from_files("azureml://datastores/workspaceblobstore/paths/data/x.csv")',
    'run = api.run("acme/churn/1x2y3z")',
    'artifact = run.use_artifact("acme/churn/dataset:v3")',
    'model = AutoModel.from_pretrained("google/flan-t5-base")',
    'endpoint = aiplatform.Endpoint("projects/p/locations/us-central1/endpoints/123")',
    'role = "arn:aws:iam::111122223333:role/SageMakerRole"',
    'ws = Workspace.get(resource_id="/subscriptions/0000/resourceGroups/rg/providers/x/workspaces/ws")',
    # paths inside a managed training container, fixed by the platform
    "hyperparameters = {'output_dir': '/opt/ml/model', 'dataset_path': '/opt/ml/input/data/training'}",
    "model = HuggingFaceModel(env={'HF_MODEL_ID': '/opt/ml/model'})",
    'with open("/opt/ml/input/config/hyperparameters.json") as f:\n    hp = json.load(f)',
    # a tool's own per-user configuration folder, the same for whoever runs the notebook
    '!sed -i "s/theano/tensorflow/g" ~/.keras/keras.json',
    '!mkdir -p ~/.kaggle',
    'cache = os.path.expanduser("~/.cache/huggingface")',
    # a program, not data
    '!ln -sf /opt/bin/nvidia-smi /usr/bin/nvidia-smi',
    'subprocess.run(["/opt/conda/bin/python", "x.py"])',
    # a key path in a document store
    "container = {'id': name, 'partitionKey': {'paths': ['/id'], 'kind': 'Hash'}}",
])
def test_locations_that_are_not_files_on_this_machine_are_not_found(source):
    assert rp1(source) == []


@pytest.mark.parametrize("source", [
    'df = pd.read_csv("/opt/models/churn.csv")',
    'df = pd.read_csv("~/Downloads/sales.csv")',
    'cfg = open("/root/.kaggle/kaggle.json")',
    'df = pd.read_csv("/home/ana/.data/sales.csv")',
    'assistant.upload_file(file_path="/Netflix-10-K.pdf")',
    'open("/config")',
])
def test_near_misses_of_those_locations_are_still_found(source):
    assert [code for code, _, _ in rp1(source)] == ["RP101"]


def test_a_scratch_path_under_tmp_says_why_and_suggests_tempfile():
    found = findings_for(['mnist = input_data.read_data_sets("/tmp/data/", one_hot=True)'], select="RP101")
    assert [f.code for f in found] == ["RP101"]
    assert "Fixed scratch path '/tmp/data/'" in found[0].message
    assert "tempfile.mkdtemp()" in found[0].message


def test_one_location_named_several_times_in_a_cell_is_one_finding():
    cell = ('!s3cmd ls s3://my-bucket\n!s3cmd put a.txt s3://my-bucket/a.txt\n'
            '!s3cmd get s3://my-bucket/b.txt b.txt\n!s3cmd ls s3://other-bucket/')
    found = findings_for([cell], select="RP1")
    assert [(f.code, f.line) for f in found] == [("RP102", 1), ("RP102", 4)]
    assert "(and 2 more uses of the same location in this cell, lines 2 and 3)" in found[0].message
    local = findings_for([('a = pd.read_csv("E:/stanford/a.csv")\nb = pd.read_csv("E:/stanford/b.csv")\n'
                          'c = pd.read_csv("E:/other/c.csv")')], select="RP101")
    assert [f.line for f in local] == [1, 3]
    assert "(and 1 more use of the same location in this cell, line 2)" in local[0].message


def test_the_same_location_in_two_cells_is_found_in_each():
    found = findings_for(['a = pd.read_csv("s3://bucket/a.csv")', 'b = pd.read_csv("s3://bucket/b.csv")'],
                         select="RP102")
    assert [f.cell_index for f in found] == [0, 1]


@pytest.mark.parametrize("source, where", [
    ('df = pd.read_csv("/content/sample_data/x.csv")', "only exists in Google Colab"),
    ('df = pd.read_csv("/kaggle/input/titanic/train.csv")', "only exists in Kaggle's notebooks"),
    ('ws = Workspace.from_config("/dbfs/aml_config/config.json")', "only exists on a Databricks cluster"),
    ('df = pd.read_csv("/mnt/shared/x.csv")', "only exists on one machine"),
])
def test_a_platform_path_names_its_platform(source, where):
    found = findings_for([source], select="RP101")
    assert [f.code for f in found] == ["RP101"] and where in found[0].message


@pytest.mark.parametrize("source", [
    'df = pd.read_csv("\\x2fhome\\x2fana\\x2fsales.csv")',  # written with escapes: no `/` in the code
    'df = pd.read_csv("\\N{SOLIDUS}mnt\\N{SOLIDUS}shared\\N{SOLIDUS}x.csv")',
    'home = os.path.expanduser("\\u007e")',
])
def test_a_location_written_with_escapes_is_found(source):
    """Cells without `/`, `\\` or `~` in their code are passed over unread: an escape has a backslash."""
    assert [code for code, _, _ in rp1(source)] == ["RP101"]


def test_path_sightings_are_each_cells_sightings_in_order():
    from readiness_magics.analysis import NotebookModel
    from readiness_magics.notebook import notebook_from_sources
    from readiness_magics.rules.paths import cell_path_sightings, path_sightings

    cells = ['BASE = "/var/lib/app"', "x = 1 / 2", '!cp /data/a.csv .\nb = pd.read_csv("s3://bucket/b.csv")',
             'df = pd.read_csv(os.path.join(BASE, "x.csv"))']
    model = NotebookModel(notebook_from_sources(cells))
    by_cell = [(s.cell.index, s.literal.text, s.io) for cell in model.code_cells for s in cell_path_sightings(model, cell)]
    assert [(s.cell.index, s.literal.text, s.io) for s in path_sightings(model)] == by_cell
    assert by_cell == [(0, "/var/lib/app", True), (2, "/data/a.csv", True), (2, "s3://bucket/b.csv", True)]
