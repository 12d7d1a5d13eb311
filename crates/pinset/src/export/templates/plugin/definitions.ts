{{provenance}}

/** A request to a server of the site. */
export interface PinsetFetchOptions {
  /** An https:// URL of the site (http:// is refused). */
  url: string;
  /** The HTTP method, GET by default. */
  method?: string;
  /** Request headers. */
  headers?: Record<string, string>;
  /** The request body, as text. */
  body?: string;
  /** Seconds the whole request may take, 30 by default. */
  timeout?: number;
}

/** What a server of the site answered. */
export interface PinsetResponse {
  /** The HTTP status. */
  status: number;
  /** The response headers, names lower case. */
  headers: Record<string, string>;
  /** The body as UTF-8 text. */
  body: string;
  /** The URL answered, after the redirects followed (never to http://). */
  url: string;
}

/** HTTPS to the servers of the site, pinned in native code. */
export interface PinsetPlugin {
  /**
   * One request. Rejects when the server is not the site's (its chain does not lead to the
   * site's anchors, or carries no pinned key) or the URL is not https://.
   */
  fetch(options: PinsetFetchOptions): Promise<PinsetResponse>;
}
