import { test } from "node:test";
import assert from "node:assert/strict";
import { chooseProxy, useProxy } from "../../src/kube/proxy.js";

// Go's httpproxy rules (golang.org/x/net/http/httpproxy), which kubectl follows through http.ProxyFromEnvironment.
for (const [server, noProxy, proxied] of [
  ["https://api.example.com", "", true],
  ["https://localhost:6443", "", false],
  ["https://127.0.0.1:6443", "", false],
  ["https://127.1.2.3:6443", "", false],
  ["https://[::1]:6443", "", false],
  ["https://api.example.com", "*", false],
  ["https://10.1.2.3", "*", false],
  ["https://api.example.com", "example.com", false],
  ["https://example.com", "example.com", false],
  ["https://notexample.com", "example.com", true],
  ["https://api.example.com", ".example.com", false],
  ["https://example.com", ".example.com", true],
  ["https://api.example.com", "*.example.com", false],
  ["https://example.com", "*.example.com", true],
  ["https://API.Example.COM", " other.org , EXAMPLE.com ", false],
  ["https://api.example.com:6443", "example.com:6443", false],
  ["https://api.example.com:6443", "example.com:443", true],
  ["https://api.example.com", "example.com:443", false],
  ["https://10.1.2.3:6443", "10.0.0.0/8", false],
  ["https://11.1.2.3:6443", "10.0.0.0/8", true],
  ["https://10.1.2.3:6443", "10.1.2.3", false],
  ["https://10.1.2.3:6443", "10.1.2.3:6443", false],
  ["https://10.1.2.3:6443", "10.1.2.3:443", true],
  ["https://[fd00::1]:6443", "fd00::/8", false],
  ["https://[fd00::1]:6443", "[fd00::1]:6443", false],
  ["https://[fd00::1]:6443", "fd00::2", true],
  ["https://api.example.com", ":443", true],
] as const)
  test(`NO_PROXY=${JSON.stringify(noProxy)}: ${server} ${proxied ? "goes through the proxy" : "is direct"}`, () => assert.equal(useProxy(new URL(server), noProxy), proxied));

const pick = (server: string, env: NodeJS.ProcessEnv, proxyUrl?: string) => chooseProxy(new URL(server), proxyUrl, "proxy-url", env);
const shown = (p: ReturnType<typeof pick>) => p && `${p.source} ${p.url.href}`;

test("HTTPS_PROXY for https:// servers, HTTP_PROXY for http:// ones; the upper-case name wins, the lower-case one works alone", () => {
  assert.equal(shown(pick("https://api.example.com", { HTTPS_PROXY: "http://a:3128", https_proxy: "http://b:3128", HTTP_PROXY: "http://c:3128" })), "HTTPS_PROXY http://a:3128/");
  assert.equal(shown(pick("https://api.example.com", { https_proxy: "http://b:3128" })), "https_proxy http://b:3128/");
  assert.equal(shown(pick("http://api.example.com", { HTTPS_PROXY: "http://a:3128", http_proxy: "http://c:3128" })), "http_proxy http://c:3128/");
  assert.equal(pick("https://api.example.com", { HTTP_PROXY: "http://c:3128" }), undefined);
  assert.equal(pick("https://api.example.com", {}), undefined);
});

test("a proxy without a scheme is http://, as in Go; an https:// proxy stays https", () => {
  assert.equal(shown(pick("https://api.example.com", { HTTPS_PROXY: "proxy.corp:3128" })), "HTTPS_PROXY http://proxy.corp:3128/");
  assert.equal(shown(pick("https://api.example.com", { HTTPS_PROXY: "10.0.0.1:3128" })), "HTTPS_PROXY http://10.0.0.1:3128/");
  assert.equal(shown(pick("https://api.example.com", { HTTPS_PROXY: "https://proxy.corp" })), "HTTPS_PROXY https://proxy.corp/");
  assert.throws(() => pick("https://api.example.com", { HTTPS_PROXY: "socks5://proxy.corp:1080" }), /^MeshError: HTTPS_PROXY names a socks5 proxy, which mesh does not support from the environment$/);
});

test("NO_PROXY (or no_proxy) exempts a host; localhost never goes through the environment's proxy", () => {
  assert.equal(pick("https://api.example.com", { HTTPS_PROXY: "http://a:3128", NO_PROXY: "example.com" }), undefined);
  assert.equal(pick("https://api.example.com", { HTTPS_PROXY: "http://a:3128", no_proxy: "example.com" }), undefined);
  assert.equal(pick("https://localhost:6443", { HTTPS_PROXY: "http://a:3128" }), undefined);
});

test("the cluster's proxy-url takes precedence over the environment, and NO_PROXY and loopback do not apply to it", () => {
  const env = { HTTPS_PROXY: "http://a:3128", NO_PROXY: "*" };
  assert.equal(shown(pick("https://api.example.com", env, "http://kubeconfig-proxy:8080")), "proxy-url http://kubeconfig-proxy:8080/");
  assert.equal(shown(pick("https://127.0.0.1:6443", {}, "http://kubeconfig-proxy:8080")), "proxy-url http://kubeconfig-proxy:8080/");
});

test("HTTP_PROXY is ignored in a CGI process (REQUEST_METHOD set), as Go ignores it", () => {
  assert.equal(pick("http://api.example.com", { HTTP_PROXY: "http://c:3128", REQUEST_METHOD: "GET" }), undefined);
});
