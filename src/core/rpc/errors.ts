/** JSON-RPC 2.0 error codes, plus the damocles application codes (reference §3.1). */
export const RpcErrorCode = {
  ParseError: -32700,
  InvalidRequest: -32600,
  MethodNotFound: -32601,
  InvalidParams: -32602,
  Internal: -32603,
  /** No token, or one that does not verify (the HTTP status is 401 as well). */
  Unauthorized: 401,
  /** A valid token without the permission the method needs. */
  Forbidden: 403,
  /** APIErrCodeSectorStateNotFound: workers treat it as an Abort-level failure. */
  SectorStateNotFound: 11001,
} as const;

/** An error a handler throws to answer with a specific code; anything else becomes -32603. */
export class RpcError extends Error {
  constructor(
    readonly code: number,
    message: string,
    readonly data?: unknown,
  ) {
    super(message);
    this.name = "RpcError";
  }
}

export class SectorStateNotFoundError extends RpcError {
  constructor(message: string) {
    super(RpcErrorCode.SectorStateNotFound, message);
    this.name = "SectorStateNotFoundError";
  }
}

/** What a client sees when the server answered with an error object. */
export class RpcCallError extends Error {
  constructor(
    readonly method: string,
    readonly code: number,
    readonly rpcMessage: string,
    readonly data?: unknown,
  ) {
    super(`${method}: ${rpcMessage} (code ${code})`);
    this.name = "RpcCallError";
  }
}

/** The server could not be reached or answered something that is not JSON-RPC. */
export class RpcTransportError extends Error {
  /** The HTTP status of an answer that was not JSON-RPC (a node refusing a token answers 401 with no body). */
  readonly httpStatus: number | undefined;
  constructor(message: string, options?: { cause?: unknown; httpStatus?: number }) {
    super(message, options);
    this.name = "RpcTransportError";
    this.httpStatus = options?.httpStatus;
  }
}
