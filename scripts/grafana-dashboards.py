#!/usr/bin/env python3
"""Writes the Grafana dashboards of config/grafana/dashboards/ (Grafana schema version 39, Grafana 10.4 and later).

    python3 scripts/grafana-dashboards.py            # rewrite the files
    python3 scripts/grafana-dashboards.py --check    # exit 1 when a committed file differs from what this writes

Every panel queries the Prometheus data source chosen by the `datasource` variable, filtered by the `job` and
`instance` variables; scripts/e2e-grafana.sh runs every query against a real Prometheus scraping a real server.
"""
import json
import os
import sys

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
OUT = os.path.join(ROOT, "config", "grafana", "dashboards")
DS = {"type": "prometheus", "uid": "${datasource}"}
SEL = 'job=~"$job", instance=~"$instance"'


def templating():
    def label_values(name, label):
        query = "label_values(talos_build_info%s, %s)" % ("" if label == "job" else '{job=~"$job"}', label)
        return {
            "name": name, "label": name.capitalize(), "type": "query", "datasource": DS,
            "query": {"query": query, "refId": "%s-values" % name}, "definition": query,
            "refresh": 2, "includeAll": True, "allValue": ".*", "multi": True, "sort": 1,
            "current": {"selected": True, "text": ["All"], "value": ["$__all"]}, "options": [],
        }
    return {"list": [
        {"name": "datasource", "label": "Data source", "type": "datasource", "query": "prometheus",
         "current": {}, "hide": 0, "refresh": 1, "options": []},
        label_values("job", "job"),
        label_values("instance", "instance"),
    ]}


class Board:
    def __init__(self, uid, title, description):
        self.uid, self.title, self.description = uid, title, description
        self.panels, self.y, self.x, self.row_height = [], 0, 0, 0

    def _place(self, width, height):
        if self.x + width > 24:
            self.x, self.y = 0, self.y + self.row_height
            self.row_height = 0
        position = {"x": self.x, "y": self.y, "w": width, "h": height}
        self.x += width
        self.row_height = max(self.row_height, height)
        return position

    def row(self, title):
        if self.x:
            self.x, self.y, self.row_height = 0, self.y + self.row_height, 0
        self.panels.append({"id": len(self.panels) + 1, "type": "row", "title": title, "collapsed": False,
                            "gridPos": {"x": 0, "y": self.y, "w": 24, "h": 1}, "panels": []})
        self.y += 1

    def panel(self, kind, title, description, targets, unit="short", width=12, height=8, **options):
        field = {"defaults": {"unit": unit}, "overrides": []}
        if kind == "timeseries":
            field["defaults"]["custom"] = {"drawStyle": "line", "lineWidth": 1, "fillOpacity": 10,
                                           "showPoints": "never", "spanNulls": True}
        if "max" in options:
            field["defaults"]["max"] = options.pop("max")
            field["defaults"]["min"] = 0
        panel = {
            "id": len(self.panels) + 1, "type": kind, "title": title, "description": description,
            "datasource": DS, "gridPos": self._place(width, height), "fieldConfig": field,
            "options": {"legend": {"displayMode": "list", "placement": "bottom", "showLegend": True},
                        "tooltip": {"mode": "multi", "sort": "desc"}} if kind == "timeseries"
            else {"reduceOptions": {"calcs": ["lastNotNull"], "fields": "", "values": False},
                  "colorMode": "value", "graphMode": "area", "textMode": "auto"},
            "targets": [{"refId": chr(ord("A") + i), "datasource": DS, "expr": expr, "legendFormat": legend,
                         "range": True, "instant": False}
                        for i, (expr, legend) in enumerate(targets)],
        }
        self.panels.append(panel)

    def json(self):
        return {
            "uid": self.uid, "title": self.title, "description": self.description,
            "tags": ["talos"], "editable": True, "graphTooltip": 1, "schemaVersion": 39, "version": 1,
            "time": {"from": "now-1h", "to": "now"}, "refresh": "30s", "timezone": "utc",
            "timepicker": {}, "fiscalYearStartMonth": 0, "liveNow": False, "weekStart": "",
            "annotations": {"list": [{"builtIn": 1, "datasource": {"type": "grafana", "uid": "-- Grafana --"},
                                      "enable": True, "hide": True, "iconColor": "rgba(0, 211, 255, 1)",
                                      "name": "Annotations & Alerts", "type": "dashboard"}]},
            "links": [{"title": "Talos dashboards", "type": "dashboards", "tags": ["talos"], "asDropdown": True}],
            "templating": templating(),
            "panels": self.panels,
        }


def rate(metric, by=None, extra=""):
    selector = "{%s%s}" % (SEL, ", " + extra if extra else "")
    inner = "rate(%s%s[$__rate_interval])" % (metric, selector)
    return "sum by (%s) (%s)" % (by, inner) if by else "sum(%s)" % inner


def quantile(q, metric, by, extra=""):
    return "histogram_quantile(%s, sum by (le%s) (rate(%s_bucket{%s%s}[$__rate_interval])))" % (
        q, ", " + by if by else "", metric, SEL, ", " + extra if extra else "")


def server():
    b = Board("talos-server", "Talos / Server", "HTTP traffic, latency and key lifecycle of every Talos server.")
    b.row("Traffic")
    b.panel("timeseries", "Requests by route", "Requests per second by route template.",
            [(rate("talos_http_requests_total", "route"), "{{route}}")], unit="reqps")
    b.panel("timeseries", "Responses by status code", "Requests per second by HTTP status code.",
            [(rate("talos_http_requests_total", "code"), "{{code}}")], unit="reqps")
    b.panel("timeseries", "Server errors", "Share of requests answered 5xx.",
            [("(%s or vector(0)) / %s" % (rate("talos_http_requests_total", extra='code=~"5.."'),
                                           rate("talos_http_requests_total")), "5xx ratio")],
            unit="percentunit", width=8)
    b.panel("timeseries", "In flight", "Requests being served (Ory's http_requests_in_flight).",
            [('sum by (instance) (http_requests_in_flight{%s})' % SEL, "{{instance}}")], width=8)
    b.panel("stat", "Servers", "Talos processes reporting, by version.",
            [('count by (version) (talos_build_info{%s})' % SEL, "{{version}}")], width=8)
    b.row("Latency")
    b.panel("timeseries", "p99 latency by route", "99th percentile request duration by route template.",
            [(quantile("0.99", "talos_http_request_duration_seconds", "route"), "{{route}}")], unit="s")
    b.panel("timeseries", "p50 latency by route", "Median request duration by route template.",
            [(quantile("0.5", "talos_http_request_duration_seconds", "route"), "{{route}}")], unit="s")
    b.panel("timeseries", "Request body size p95", "95th percentile request body size (Ory's http_request_size_bytes).",
            [(quantile("0.95", "http_request_size_bytes", "endpoint"), "{{endpoint}}")], unit="bytes")
    b.panel("timeseries", "Response body size p95", "95th percentile response body size (Ory's http_response_size_bytes).",
            [(quantile("0.95", "http_response_size_bytes", "endpoint"), "{{endpoint}}")], unit="bytes")
    b.row("Keys and admin access")
    b.panel("timeseries", "Keys created, revoked, rotated", "Key lifecycle events per second.",
            [(rate("talos_api_keys_created_total", "type"), "created {{type}}"),
             (rate("talos_api_keys_revoked_total", "reason"), "revoked {{reason}}"),
             (rate("talos_api_keys_rotated_total"), "rotated")], unit="ops", width=8)
    b.panel("timeseries", "Derived tokens minted", "JWTs and macaroons minted per second.",
            [(rate("talos_derived_tokens_minted_total", "algorithm"), "{{algorithm}}")], unit="ops", width=8)
    b.panel("timeseries", "Admin authentications", "Admin-key checks per second by result (with serve.admin.auth.enabled).",
            [(rate("talos_admin_authentications_total", "result"), "{{result}}")], unit="ops", width=8)
    return b


def verification():
    b = Board("talos-verification", "Talos / Verification, cache and rate limits",
              "Verification outcomes, the verification cache and per-key rate limits.")
    b.row("Outcomes")
    b.panel("timeseries", "Verifications by outcome", "Verifications per second: valid, or the error code.",
            [(rate("talos_verifications_total", "error_code"), "{{error_code}}")], unit="ops")
    b.panel("timeseries", "Verifications by credential type", "Verifications per second by credential type.",
            [(rate("talos_verifications_total", "credential_type"), "{{credential_type}}")], unit="ops")
    b.panel("timeseries", "Invalid share", "Share of verifications that were not valid.",
            [("%s / %s" % (rate("talos_verifications_total", extra='result="invalid"'),
                           rate("talos_verifications_total")), "invalid")], unit="percentunit", width=8, max=1)
    b.panel("timeseries", "Verification p99 by cache use", "99th percentile verification time, cache hit or not.",
            [(quantile("0.99", "talos_verification_duration_seconds", "cache_hit"), "cache hit {{cache_hit}}")],
            unit="s", width=16)
    b.row("Cache")
    b.panel("stat", "Cache hit ratio", "Verifications answered from the cache, of those that consulted it.",
            [("%s / %s" % (rate("talos_verifications_total", extra='cache="hit"'),
                           rate("talos_verifications_total", extra='cache=~"hit|miss"')), "hit ratio")],
            unit="percentunit", width=8, max=1)
    b.panel("timeseries", "Cache use", "Verifications per second by cache use (hit, miss, skip).",
            [(rate("talos_verifications_total", "cache"), "{{cache}}")], unit="ops", width=8)
    b.panel("timeseries", "Cache invalidations", "Evictions per second: this node's changes and the cluster feed's.",
            [(rate("talos_cache_invalidations_total", "source"), "{{source}}")], unit="ops", width=8)
    b.panel("stat", "Invalidation listener", "1 while a node's cluster invalidation listener is connected.",
            [('min(talos_cache_listener_up{%s})' % SEL, "listening (min over nodes)")], width=8)
    b.row("Rate limits")
    b.panel("timeseries", "Rate limited", "Verifications refused as over their key's rate limit, per second.",
            [(rate("talos_rate_limited_total"), "rate limited")], unit="ops", width=8)
    b.panel("timeseries", "Rate-limited share", "Share of verifications refused by rate limits.",
            [("%s / %s" % (rate("talos_rate_limited_total"), rate("talos_verifications_total")), "rate limited")],
            unit="percentunit", width=8, max=1)
    b.panel("timeseries", "Rate limiter errors", "Limiter failures per second (the verification was allowed).",
            [("%s or vector(0)" % rate("talos_rate_limiter_errors_total"), "errors")], unit="ops", width=8)
    return b


def usage():
    b = Board("talos-usage", "Talos / Usage and last used",
              "The usage counters (per key, hour and outcome) and last_used_time, written in batches.")
    b.row("Usage counters")
    b.panel("timeseries", "Verifications counted", "Verifications written to the usage counters per second.",
            [(rate("talos_usage_flushed_verifications_total"), "verifications")], unit="ops")
    b.panel("timeseries", "Counters written", "Usage rows (key, hour, outcome) upserted per second, and flushes.",
            [(rate("talos_usage_flushed_buckets_total"), "rows"), (rate("talos_usage_flushes_total"), "flushes")],
            unit="ops")
    b.panel("timeseries", "Flush duration p99", "99th percentile duration of a usage flush.",
            [(quantile("0.99", "talos_usage_flush_duration_seconds", None), "p99")], unit="s", width=8)
    b.panel("timeseries", "Flush failures and drops", "Failed flushes (retried) and verifications not counted.",
            [("%s or vector(0)" % rate("talos_usage_flush_failures_total"), "failed flushes"),
             ("%s or vector(0)" % rate("talos_usage_dropped_total"), "dropped")], unit="ops", width=8)
    b.panel("stat", "Counted, last hour", "Verifications written to the usage counters in the last hour.",
            [("sum(increase(talos_usage_flushed_verifications_total{%s}[1h]))" % SEL, "verifications")], width=8)
    b.row("Last used")
    b.panel("timeseries", "last_used_time writes", "last_used_time updates written per second.",
            [(rate("talos_last_used_flushed_total"), "written")], unit="ops")
    b.panel("timeseries", "last_used_time drops", "Updates dropped because the queue was full.",
            [("%s or vector(0)" % rate("talos_last_used_dropped_total"), "dropped")], unit="ops")
    return b


def edge():
    b = Board("talos-edge", "Talos / Edge node",
              "The edge node (talos proxy): cached verify answers, evictions from the revocation feed, the upstream.")
    b.row("Cache")
    b.panel("timeseries", "Requests by cache use", "Requests per second: hit, miss, bypass, none (forwarded).",
            [(rate("talos_proxy_requests_total", "cache"), "{{cache}}")], unit="reqps")
    b.panel("stat", "Hit ratio", "Verify answers served from the edge's cache, of the cacheable ones.",
            [("%s / %s" % (rate("talos_proxy_requests_total", extra='cache="hit"'),
                           rate("talos_proxy_requests_total", extra='cache=~"hit|miss"')), "hit ratio")],
            unit="percentunit", width=6, max=1)
    b.panel("stat", "Feed", "1 while the edge follows the upstream's revocation feed (it caches only then).",
            [('min(talos_proxy_feed_up{%s})' % SEL, "following")], width=6)
    b.panel("timeseries", "Cache size", "Entries and bytes held.",
            [('sum(talos_proxy_cache_entries{%s})' % SEL, "entries")], width=12)
    b.panel("timeseries", "Cache bytes", "Bytes held by the edge's cache.",
            [('sum(talos_proxy_cache_bytes{%s})' % SEL, "bytes")], unit="bytes", width=12)
    b.row("Upstream")
    b.panel("timeseries", "Evictions", "Keys evicted per second on the feed's revocations.",
            [(rate("talos_proxy_cache_evictions_total"), "evictions")], unit="ops")
    b.panel("timeseries", "Upstream errors", "Requests the upstream did not answer (502 at the edge).",
            [("%s or vector(0)" % rate("talos_proxy_upstream_errors_total"), "errors")], unit="ops")
    return b


def main():
    check = "--check" in sys.argv[1:]
    stale = []
    for board in (server(), verification(), usage(), edge()):
        path = os.path.join(OUT, board.uid + ".json")
        text = json.dumps(board.json(), indent=2) + "\n"
        if check:
            if not os.path.exists(path) or open(path).read() != text:
                stale.append(path)
        else:
            os.makedirs(OUT, exist_ok=True)
            with open(path, "w") as f:
                f.write(text)
    if stale:
        print("out of date (run python3 scripts/grafana-dashboards.py): " + ", ".join(stale), file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    main()
