"""A gRPC client nobody here wrote (Python grpcio), generated from Periscope's .proto files,
calling a running server. Usage: grpc_client.py HOST:PORT PROTO_DIR [CA_PEM]; with CA_PEM
the channel is TLS (ALPN h2) trusting that certificate, for the name "localhost". Prints
one line per check and exits non-zero if any check fails."""
import os
import sys
import tempfile
import threading

import grpc
from grpc_tools import protoc

target, proto_dir = sys.argv[1], sys.argv[2]
ca_pem = sys.argv[3] if len(sys.argv) > 3 else None
out = tempfile.mkdtemp(prefix="periscope-grpc-py-")
wkt = os.path.join(os.path.dirname(protoc.__file__), "_proto")
files = []
for root, _, names in os.walk(proto_dir):
    files += [os.path.relpath(os.path.join(root, n), proto_dir) for n in names if n.endswith(".proto")]
status = protoc.main(["protoc", f"-I{proto_dir}", f"-I{wkt}", f"--python_out={out}", f"--grpc_python_out={out}"] + sorted(files))
assert status == 0, f"protoc failed with {status}"
sys.path.insert(0, out)

import importlib.util  # noqa: E402

from periscope.v1 import diagnostics_pb2, diagnostics_pb2_grpc  # noqa: E402

# The generated package `grpc.health.v1` would shadow grpcio's own `grpc` package, so the
# health messages are loaded under another name and the standard path is called directly.
spec = importlib.util.spec_from_file_location("periscope_health_pb2", os.path.join(out, "grpc/health/v1/health_pb2.py"))
health_pb2 = importlib.util.module_from_spec(spec)
spec.loader.exec_module(health_pb2)


class HealthStub:
    def __init__(self, channel):
        self.Check = channel.unary_unary("/grpc.health.v1.Health/Check",
                                         request_serializer=health_pb2.HealthCheckRequest.SerializeToString,
                                         response_deserializer=health_pb2.HealthCheckResponse.FromString)
        self.Watch = channel.unary_stream("/grpc.health.v1.Health/Watch",
                                          request_serializer=health_pb2.HealthCheckRequest.SerializeToString,
                                          response_deserializer=health_pb2.HealthCheckResponse.FromString)

failures = []


def check(name, condition, detail=""):
    print(("ok   " if condition else "FAIL ") + name + (f": {detail}" if detail else ""), flush=True)
    if not condition:
        failures.append(name)


options = [("grpc.max_receive_message_length", 8 << 20), ("grpc.max_send_message_length", 8 << 20)]
if ca_pem:
    with open(ca_pem, "rb") as f:
        credentials = grpc.ssl_channel_credentials(root_certificates=f.read())
    channel = grpc.secure_channel(target, credentials, options=options + [("grpc.ssl_target_name_override", "localhost")])
else:
    channel = grpc.insecure_channel(target, options=options)
health = HealthStub(channel)
diagnostics = diagnostics_pb2_grpc.DiagnosticsStub(channel)

response = health.Check(health_pb2.HealthCheckRequest(), timeout=30)
check("health check serving", response.status == health_pb2.HealthCheckResponse.SERVING, str(response.status))

try:
    health.Check(health_pb2.HealthCheckRequest(service="no.such.Service"), timeout=30)
    check("health check of unknown service is NOT_FOUND", False, "no error")
except grpc.RpcError as error:
    check("health check of unknown service is NOT_FOUND", error.code() == grpc.StatusCode.NOT_FOUND, error.details())

watch = health.Watch(health_pb2.HealthCheckRequest(), timeout=30)
first = next(watch)
watch.cancel()
check("health watch streams the current status", first.status == health_pb2.HealthCheckResponse.SERVING, str(first.status))

echo = diagnostics.Echo(diagnostics_pb2.EchoRequest(payload=b"hello from python"), timeout=30)
check("unary echo", echo.payload == b"hello from python" and echo.sequence == 1, repr(echo))

big = bytes(range(256)) * 4096  # 1 MiB
echo = diagnostics.Echo(diagnostics_pb2.EchoRequest(payload=big), timeout=60)
check("unary echo of 1 MiB", echo.payload == big, f"{len(echo.payload)} bytes")

try:
    diagnostics.Echo(diagnostics_pb2.EchoRequest(delay_ms=3000), timeout=0.2)
    check("deadline exceeded", False, "no error")
except grpc.RpcError as error:
    check("deadline exceeded", error.code() == grpc.StatusCode.DEADLINE_EXCEEDED, f"{error.code()} {error.details()}")

try:
    diagnostics.Echo(diagnostics_pb2.EchoRequest(fail_with_code=5, fail_with_message="no such execution: ünïcode 100%"), timeout=30)
    check("error status and message", False, "no error")
except grpc.RpcError as error:
    check("error status and message",
          error.code() == grpc.StatusCode.NOT_FOUND and error.details() == "no such execution: ünïcode 100%",
          f"{error.code()} {error.details()!r}")

try:
    diagnostics.Echo(diagnostics_pb2.EchoRequest(response_bytes=100 << 20), timeout=30)
    check("server-side validation is INVALID_ARGUMENT", False, "no error")
except grpc.RpcError as error:
    check("server-side validation is INVALID_ARGUMENT", error.code() == grpc.StatusCode.INVALID_ARGUMENT, error.details())

unknown = channel.unary_unary("/periscope.v1.Diagnostics/NoSuchMethod",
                              request_serializer=lambda m: m.SerializeToString(),
                              response_deserializer=diagnostics_pb2.EchoResponse.FromString)
try:
    unknown(diagnostics_pb2.EchoRequest(), timeout=30)
    check("unknown method is UNIMPLEMENTED", False, "no error")
except grpc.RpcError as error:
    check("unknown method is UNIMPLEMENTED", error.code() == grpc.StatusCode.UNIMPLEMENTED, error.details())

requests = [diagnostics_pb2.EchoRequest(payload=f"message {i}".encode()) for i in range(500)]
responses = list(diagnostics.EchoStream(iter(requests), timeout=60))
check("bidirectional stream of 500 messages",
      [r.payload for r in responses] == [r.payload for r in requests]
      and [r.sequence for r in responses] == list(range(1, 501)), f"{len(responses)} responses")

# Interleaved: each response must arrive before the next request is sent (true full duplex).
gate = threading.Semaphore(0)
def paced():
    for i in range(20):
        yield diagnostics_pb2.EchoRequest(payload=str(i).encode())
        if not gate.acquire(timeout=30):
            return
seen = []
for r in diagnostics.EchoStream(paced(), timeout=60):
    seen.append(int(r.payload))
    gate.release()
check("ping-pong over one bidirectional stream", seen == list(range(20)), str(seen))

try:
    list(diagnostics.EchoStream(iter([diagnostics_pb2.EchoRequest(payload=b"x"),
                                      diagnostics_pb2.EchoRequest(fail_with_code=9, fail_with_message="stop here")]), timeout=30))
    check("streaming error status", False, "no error")
except grpc.RpcError as error:
    check("streaming error status", error.code() == grpc.StatusCode.FAILED_PRECONDITION and error.details() == "stop here",
          f"{error.code()} {error.details()}")

# Many concurrent calls on one channel (one HTTP/2 connection, many streams).
futures = [diagnostics.Echo.future(diagnostics_pb2.EchoRequest(payload=str(i).encode()), timeout=60) for i in range(300)]
results = [int(f.result().payload) for f in futures]
check("300 concurrent unary calls", results == list(range(300)))

channel.close()
print(f"{len(failures)} failed", flush=True)
sys.exit(1 if failures else 0)
