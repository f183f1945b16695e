"""A small OTLP/HTTP receiver for the tests: POST /v1/metrics bodies are
decoded with the official opentelemetry-proto definitions. It can be told to
answer 503 for a number of requests first, or to stop and start again."""

import http.server
import socketserver
import threading

from opentelemetry.proto.collector.metrics.v1 import metrics_service_pb2


class Receiver:
    def __init__(self, port=0, tls=None):
        """tls: (cert_file, key_file) to serve HTTPS."""
        self.requests = []       # decoded ExportMetricsServiceRequest objects
        self.headers = []        # request headers (lower-case names), per request
        self.unavailable = 0     # answer 503 to this many requests first
        self.refused = 0         # requests answered 503
        self.lock = threading.Lock()
        receiver = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                with receiver.lock:
                    if receiver.unavailable > 0:
                        receiver.unavailable -= 1
                        receiver.refused += 1
                        self.send_response(503)
                        self.send_header("Content-Length", "0")
                        self.end_headers()
                        return
                if self.path != "/v1/metrics" or self.headers.get("Content-Type") != "application/x-protobuf":
                    self.send_response(400)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                req = metrics_service_pb2.ExportMetricsServiceRequest()
                req.ParseFromString(body)
                with receiver.lock:
                    receiver.requests.append(req)
                    receiver.headers.append({k.lower(): v for k, v in self.headers.items()})
                out = metrics_service_pb2.ExportMetricsServiceResponse().SerializeToString()
                self.send_response(200)
                self.send_header("Content-Type", "application/x-protobuf")
                self.send_header("Content-Length", str(len(out)))
                self.end_headers()
                self.wfile.write(out)

            def log_message(self, *args):
                pass

        class Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
            daemon_threads = True
            allow_reuse_address = True

        self.server = Server(("127.0.0.1", port), Handler)
        if tls:
            import ssl
            ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            ctx.load_cert_chain(*tls)
            self.server.socket = ctx.wrap_socket(self.server.socket, server_side=True)
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def stop(self):
        self.server.shutdown()
        self.server.server_close()

    def count(self):
        with self.lock:
            return len(self.requests)

    def last(self):
        with self.lock:
            return self.requests[-1]


def flatten(req):
    """ExportMetricsServiceRequest -> {(name, sorted attrs): value}, plus
    {name: kind} and the resource attributes."""
    series, kinds = {}, {}
    rm = req.resource_metrics[0]
    resource = {kv.key: kv.value.string_value for kv in rm.resource.attributes}
    for m in rm.scope_metrics[0].metrics:
        kind = m.WhichOneof("data")
        kinds[m.name] = kind
        points = m.sum.data_points if kind == "sum" else m.gauge.data_points
        for p in points:
            attrs = tuple(sorted((kv.key, kv.value.string_value) for kv in p.attributes))
            series[(m.name, attrs)] = float(p.as_int if p.WhichOneof("value") == "as_int" else p.as_double)
    return series, kinds, resource


class GrpcReceiver:
    """The same, over gRPC (MetricsService/Export) with grpcio; answers
    UNAVAILABLE to the first `unavailable` calls."""

    def __init__(self, tls=None):
        """tls: (cert_file, key_file) to serve TLS."""
        from concurrent import futures

        import grpc
        from opentelemetry.proto.collector.metrics.v1 import metrics_service_pb2_grpc

        self.requests, self.headers = [], []  # headers: the call metadata
        self.unavailable = 0
        self.refused = 0
        self.lock = threading.Lock()
        receiver = self

        class Servicer(metrics_service_pb2_grpc.MetricsServiceServicer):
            def Export(self, request, context):
                with receiver.lock:
                    if receiver.unavailable > 0:
                        receiver.unavailable -= 1
                        receiver.refused += 1
                        context.abort(grpc.StatusCode.UNAVAILABLE, "not yet")
                    receiver.requests.append(request)
                    receiver.headers.append(dict(context.invocation_metadata()))
                return metrics_service_pb2.ExportMetricsServiceResponse()

        self.server = grpc.server(futures.ThreadPoolExecutor(max_workers=2))
        metrics_service_pb2_grpc.add_MetricsServiceServicer_to_server(Servicer(), self.server)
        if tls:
            with open(tls[0], "rb") as c, open(tls[1], "rb") as k:
                creds = grpc.ssl_server_credentials([(k.read(), c.read())])
            self.port = self.server.add_secure_port("127.0.0.1:0", creds)
        else:
            self.port = self.server.add_insecure_port("127.0.0.1:0")
        self.server.start()

    def stop(self):
        self.server.stop(0)

    def count(self):
        with self.lock:
            return len(self.requests)

    def last(self):
        with self.lock:
            return self.requests[-1]
