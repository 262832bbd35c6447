/**
 * The client of Linkerd's version service (versioncheck.linkerd.io), which `mesh check` asks for
 * the latest stable and edge releases. Bounded by a short timeout: offline, the check warns and
 * moves on.
 */

export const VERSION_CHECK_URL = "https://versioncheck.linkerd.io/version.json";
/** How long `can determine the latest version` waits for the version service before it warns. */
export const VERSION_CHECK_TIMEOUT_MS = 3_000;

/** The version service's answer, or an error that says why the latest version could not be looked up. */
export async function fetchLatestVersions(url: string, cliVersion: string, uuid: string, timeoutMs = VERSION_CHECK_TIMEOUT_MS): Promise<unknown> {
  const target = `${url}?version=${encodeURIComponent(cliVersion)}&uuid=${encodeURIComponent(uuid)}&source=cli`;
  const host = new URL(url).host;
  let res: Response;
  try {
    res = await fetch(target, { signal: AbortSignal.timeout(timeoutMs) });
  } catch (e) {
    const err = e as Error & { cause?: { code?: string; message?: string } };
    const why =
      err.name === "TimeoutError" || err.name === "AbortError"
        ? `no answer within ${timeoutMs / 1000}s`
        : err.cause?.code === "ENOTFOUND" || err.cause?.code === "EAI_AGAIN"
          ? `cannot resolve ${host}`
          : (err.cause?.message ?? err.message);
    throw new Error(`cannot look up the latest version at ${host} (${why}); offline? pass --expected-version to compare against a known version`);
  }
  if (res.status !== 200) {
    await res.body?.cancel().catch(() => undefined);
    throw new Error(`unexpected versioncheck response: ${res.status} ${res.statusText}`.trimEnd());
  }
  const text = await res.text();
  try {
    return JSON.parse(text);
  } catch {
    throw new Error("unexpected versioncheck response: not JSON");
  }
}
