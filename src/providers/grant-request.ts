// The calls made for an identity after its login (revoking the grant), outside any browser step:
// their failures are retried by the background job that makes them, so they are plain errors that
// say whether a retry can help, never a LoginFlowError (no frontend is waiting for an `error=`).

/**
 * A provider call about a grant failed. `retryable: false`: our settings are wrong, and a retry only
 * repeats the refusal until an operator fixes them; the runner still retries (a fixed setting then
 * succeeds) but logs it as an error, so it is seen.
 */
export class ProviderGrantError extends Error {
  readonly retryable: boolean

  constructor (message: string, options: { retryable: boolean, cause?: unknown }) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause })
    this.name = 'ProviderGrantError'
    this.retryable = options.retryable
  }
}

/**
 * POSTs a form (secrets in the body, never in the URL), bounded by the provider timeout, and returns
 * the status and raw text: Naver's revoke answers 200 with an empty body, which JSON callers refuse.
 */
export async function postGrantForm (url: string, init: { form: Record<string, string>, headers?: Record<string, string>, timeoutMs: number, provider: string }): Promise<{ status: number, text: string }> {
  const path = new URL(url).pathname
  try {
    const response = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded;charset=utf-8', accept: 'application/json', ...init.headers },
      body: new URLSearchParams(init.form).toString(),
      signal: AbortSignal.timeout(init.timeoutMs)
    })
    return { status: response.status, text: await response.text() }
  } catch (error) {
    const timedOut = error instanceof DOMException && error.name === 'TimeoutError'
    throw new ProviderGrantError(timedOut ? `${init.provider} ${path} did not answer within ${init.timeoutMs} ms` : `${init.provider} ${path} could not be reached`, { retryable: true, cause: error })
  }
}

/** The JSON object in a provider's error reply, or `{}` when there is none. */
export function errorBody (text: string): Record<string, unknown> {
  try {
    const body: unknown = JSON.parse(text)
    return typeof body === 'object' && body !== null ? body as Record<string, unknown> : {}
  } catch {
    return {}
  }
}
