#!/usr/bin/env python3
"""A minimal OTLP/HTTP trace receiver for the tests: accepts POST /v1/traces (protobuf, optionally gzip) and appends
one JSON object per span to OUTFILE: name, kind, trace_id, span_id, parent_span_id and attributes. With FULLFILE,
it also appends every export request whole (resource, scopes, spans with events, links and status) as one JSON line.

    otlp-receiver.py PORT OUTFILE [FULLFILE]
Requires the opentelemetry-proto package (scripts/python-tools.sh installs it).
"""
import gzip
import json
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from google.protobuf import json_format
from opentelemetry.proto.collector.trace.v1 import trace_service_pb2

port, out = int(sys.argv[1]), sys.argv[2]
full = sys.argv[3] if len(sys.argv) > 3 else None


def value(any_value):
    kind = any_value.WhichOneof("value")
    return getattr(any_value, kind) if kind else None


class Handler(BaseHTTPRequestHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        if self.headers.get("Content-Encoding") == "gzip":
            body = gzip.decompress(body)
        request = trace_service_pb2.ExportTraceServiceRequest()
        request.ParseFromString(body)
        if full:
            with open(full, "a") as sink:
                sink.write(json.dumps(json_format.MessageToDict(request)) + "\n")
        with open(out, "a") as sink:
            for resource_spans in request.resource_spans:
                resource = {a.key: value(a.value) for a in resource_spans.resource.attributes}
                for scope_spans in resource_spans.scope_spans:
                    for span in scope_spans.spans:
                        sink.write(json.dumps({
                            "name": span.name, "kind": span.kind, "trace_id": span.trace_id.hex(),
                            "span_id": span.span_id.hex(), "parent_span_id": span.parent_span_id.hex(),
                            "attributes": {a.key: value(a.value) for a in span.attributes},
                            "service": resource.get("service.name"),
                        }) + "\n")
        reply = trace_service_pb2.ExportTraceServiceResponse().SerializeToString()
        self.send_response(200)
        self.send_header("Content-Type", "application/x-protobuf")
        self.send_header("Content-Length", str(len(reply)))
        self.end_headers()
        self.wfile.write(reply)

    def log_message(self, *args):
        pass


ThreadingHTTPServer(("127.0.0.1", port), Handler).serve_forever()
