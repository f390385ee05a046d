/**
 * S3's error model for the local S3 emulator: every failure a client can cause is an
 * {@link S3Error}, which the HTTP layer turns into S3's `<Error>` XML document and status code.
 * Anything else that escapes a handler is a bug and becomes a 500 `InternalError`.
 */

/** An error S3 would answer with: its code, HTTP status, message and optional extra XML fields. */
export class S3Error extends Error {
  constructor(
    readonly code: string,
    readonly status: number,
    message: string,
    /** Extra children of `<Error>` (e.g. `BucketName`, `Key`), as S3 adds them. */
    readonly details: Readonly<Record<string, string>> = {},
    /** Extra response headers (e.g. `Content-Range` on 416). */
    readonly headers: Readonly<Record<string, string>> = {},
  ) {
    super(message);
    this.name = 'S3Error';
  }
}

/** Factories for the errors the emulator raises, with S3's exact codes, statuses and wording. */
export const S3Errors = {
  noSuchBucket: (bucket: string) =>
    new S3Error('NoSuchBucket', 404, 'The specified bucket does not exist', { BucketName: bucket }),
  noSuchKey: (key: string) =>
    new S3Error('NoSuchKey', 404, 'The specified key does not exist.', { Key: key }),
  noSuchUpload: (uploadId: string) =>
    new S3Error(
      'NoSuchUpload',
      404,
      'The specified upload does not exist. The upload ID may be invalid, or the upload may have been aborted or completed.',
      { UploadId: uploadId },
    ),
  bucketAlreadyOwnedByYou: (bucket: string) =>
    new S3Error(
      'BucketAlreadyOwnedByYou',
      409,
      'Your previous request to create the named bucket succeeded and you already own it.',
      { BucketName: bucket },
    ),
  bucketNotEmpty: (bucket: string) =>
    new S3Error('BucketNotEmpty', 409, 'The bucket you tried to delete is not empty', { BucketName: bucket }),
  invalidBucketName: (bucket: string) =>
    new S3Error('InvalidBucketName', 400, 'The specified bucket is not valid.', { BucketName: bucket }),
  keyTooLong: () => new S3Error('KeyTooLongError', 400, 'Your key is too long'),
  invalidURI: () => new S3Error('InvalidURI', 400, "Couldn't parse the specified URI."),
  invalidArgument: (message: string, name?: string, value?: string) =>
    new S3Error(
      'InvalidArgument',
      400,
      message,
      name === undefined ? {} : { ArgumentName: name, ArgumentValue: value ?? '' },
    ),
  invalidRequest: (message: string) => new S3Error('InvalidRequest', 400, message),
  invalidPart: () =>
    new S3Error(
      'InvalidPart',
      400,
      "One or more of the specified parts could not be found.  The part may not have been uploaded, or the specified entity tag may not match the part's entity tag.",
    ),
  invalidPartOrder: () =>
    new S3Error(
      'InvalidPartOrder',
      400,
      'The list of parts was not in ascending order. Parts must be ordered by part number.',
    ),
  entityTooSmall: () =>
    new S3Error(
      'EntityTooSmall',
      400,
      'Your proposed upload is smaller than the minimum allowed object size.',
    ),
  invalidRange: (size: number) =>
    new S3Error(
      'InvalidRange',
      416,
      'The requested range is not satisfiable',
      { ActualObjectSize: String(size) },
      { 'Content-Range': `bytes */${size}` },
    ),
  preconditionFailed: (condition: string) =>
    new S3Error('PreconditionFailed', 412, 'At least one of the pre-conditions you specified did not hold', {
      Condition: condition,
    }),
  malformedXML: () =>
    new S3Error(
      'MalformedXML',
      400,
      'The XML you provided was not well-formed or did not validate against our published schema',
    ),
  maxMessageLengthExceeded: () => new S3Error('MaxMessageLengthExceeded', 400, 'Your request was too big.'),
  badDigest: (what: string) =>
    new S3Error('BadDigest', 400, `The ${what} you specified did not match the calculated checksum.`),
  invalidDigest: () => new S3Error('InvalidDigest', 400, 'The Content-MD5 you specified is not valid.'),
  contentSha256Mismatch: () =>
    new S3Error(
      'XAmzContentSHA256Mismatch',
      400,
      "The provided 'x-amz-content-sha256' header does not match what was computed.",
    ),
  incompleteBody: () =>
    new S3Error(
      'IncompleteBody',
      400,
      'You did not provide the number of bytes specified by the Content-Length HTTP header',
    ),
  invalidChunkedEncoding: (why: string) =>
    new S3Error('InvalidRequest', 400, `Invalid aws-chunked request body: ${why}`),
  metadataTooLarge: () =>
    new S3Error('MetadataTooLarge', 400, 'Your metadata headers exceed the maximum allowed metadata size.'),
  requestExpired: (expires: Date, now: Date) =>
    new S3Error('AccessDenied', 403, 'Request has expired', {
      Expires: expires.toISOString(),
      ServerTime: now.toISOString(),
    }),
  authorizationQueryParametersError: (message: string) =>
    new S3Error('AuthorizationQueryParametersError', 400, message),
  methodNotAllowed: (method: string, resource: string) =>
    new S3Error('MethodNotAllowed', 405, 'The specified method is not allowed against this resource.', {
      Method: method,
      ResourceType: resource,
    }),
  notImplemented: (what: string) =>
    new S3Error(
      'NotImplemented',
      501,
      `A header or query you provided implies functionality that is not implemented: ${what}`,
    ),
  internal: () => new S3Error('InternalError', 500, 'We encountered an internal error. Please try again.'),
} as const;
