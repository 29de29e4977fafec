"""The visibility service used from Python grpcio with stubs generated from Periscope's .proto
files: the API works without Swift. Usage: visibility_client.py HOST:PORT PROTO_DIR.
Registers an attribute, writes executions, lists, pages and counts them, and checks that bad
input gets the right status. Prints one line per check; exits non-zero if any fails."""
import os
import sys
import tempfile
import uuid

import grpc
from grpc_tools import protoc

target, proto_dir = sys.argv[1], sys.argv[2]
out = tempfile.mkdtemp(prefix="periscope-visibility-py-")
wkt = os.path.join(os.path.dirname(protoc.__file__), "_proto")
files = []
for root, _, names in os.walk(proto_dir):
    files += [os.path.relpath(os.path.join(root, n), proto_dir) for n in names
              if n.endswith(".proto") and not root.endswith("health/v1")]
status = protoc.main(["protoc", f"-I{proto_dir}", f"-I{wkt}", f"--python_out={out}", f"--grpc_python_out={out}"] + sorted(files))
assert status == 0, f"protoc failed with {status}"
sys.path.insert(0, out)

from periscope.v1 import records_pb2, visibility_pb2, visibility_pb2_grpc  # noqa: E402

failures = []


def check(name, condition, detail=""):
    print(("ok   " if condition else "FAIL ") + name + (f": {detail}" if detail else ""), flush=True)
    if not condition:
        failures.append(name)


def refused(call, code, fragment):
    try:
        call()
        return False, "no error"
    except grpc.RpcError as error:
        return error.code() == code and fragment in error.details(), f"{error.code()}: {error.details()}"


channel = grpc.insecure_channel(target)
stub = visibility_pb2_grpc.VisibilityServiceStub(channel)
namespace = "py-" + uuid.uuid4().hex[:8]
created = stub.CreateNamespace(visibility_pb2.CreateNamespaceRequest(name=namespace), timeout=30)
check("create namespace", created.namespace.name == namespace and created.namespace.id != "", str(created.namespace))
stub.AddSearchAttributes(visibility_pb2.AddSearchAttributesRequest(
    namespace=namespace, search_attributes={"CustomerId": records_pb2.INDEXED_VALUE_TYPE_KEYWORD}), timeout=30)

token = b""
for number in range(25):
    execution = records_pb2.Execution(workflow_id=f"py-{number}", run_id="r1", version=1, workflow_type="order" if number % 2 else "refund",
                                      task_queue="q", status=records_pb2.EXECUTION_STATUS_RUNNING)
    execution.start_time.FromSeconds(1_790_000_000 + number)
    execution.search_attributes["CustomerId"].keyword = f"c-{number % 5}"
    response = stub.RecordExecutionStarted(visibility_pb2.RecordExecutionStartedRequest(namespace=namespace, execution=execution), timeout=30)
    token = response.consistency_token
check("writes acknowledged with a consistency token", len(token) > 0)

ryw = records_pb2.ReadConsistency(level=records_pb2.CONSISTENCY_READ_YOUR_WRITES, consistency_token=token)
listed = stub.ListExecutions(visibility_pb2.ListExecutionsRequest(namespace=namespace, query="WorkflowType = 'order'", consistency=ryw), timeout=30)
ids = [e.workflow_id for e in listed.executions]
expected = [f"py-{n}" for n in sorted(range(1, 25, 2), reverse=True)]
check("list in the default order (StartTime descending)", ids == expected, str(ids))

pages, seen, page_token = 0, [], b""
while True:
    page = stub.ListExecutions(visibility_pb2.ListExecutionsRequest(namespace=namespace, page_size=7, next_page_token=page_token), timeout=30)
    seen += [e.workflow_id for e in page.executions]
    pages += 1
    page_token = page.next_page_token
    if not page_token or pages > 10:
        break
check("paging through everything", sorted(seen) == sorted(f"py-{n}" for n in range(25)) and pages == 4, f"{pages} pages, {len(seen)} rows")

counted = stub.CountExecutions(visibility_pb2.CountExecutionsRequest(namespace=namespace, query="GROUP BY CustomerId"), timeout=30)
check("count with GROUP BY", counted.count == 25 and sorted(g.count for g in counted.groups) == [5] * 5, str(counted))

ok, detail = refused(lambda: stub.ListExecutions(visibility_pb2.ListExecutionsRequest(namespace=namespace, query="Color = 'red'"), timeout=30),
                     grpc.StatusCode.INVALID_ARGUMENT, "Color")
check("unknown attribute in a query is INVALID_ARGUMENT", ok, detail)
ok, detail = refused(lambda: stub.ListExecutions(visibility_pb2.ListExecutionsRequest(namespace="no-such-namespace"), timeout=30),
                     grpc.StatusCode.NOT_FOUND, "no-such-namespace")
check("unknown namespace is NOT_FOUND", ok, detail)
bad = records_pb2.Execution(workflow_id="py-bad", run_id="r1", workflow_type="t", task_queue="q", status=records_pb2.EXECUTION_STATUS_RUNNING)
bad.start_time.FromSeconds(1_790_000_000)
bad.search_attributes["CustomerId"].int = 5
ok, detail = refused(lambda: stub.RecordExecutionStarted(visibility_pb2.RecordExecutionStartedRequest(namespace=namespace, execution=bad), timeout=30),
                     grpc.StatusCode.INVALID_ARGUMENT, "CustomerId")
check("a value of the wrong type is INVALID_ARGUMENT", ok, detail)

print(f"{len(failures)} failed", flush=True)
sys.exit(1 if failures else 0)
