import busboy from 'busboy';
import { createSpool, type Spool } from '@c2pa-mesh/c2pa-stream';
import { invalidArgument } from '@c2pa-mesh/errors';
import { header, tooLarge, type Exchange } from './exchange.js';

export interface UploadedFile {
  field: string;
  /** The file name the client gave, without any directory part; empty when it gave none. */
  filename: string;
  /** The part's Content-Type as the client labelled it; often application/octet-stream. */
  mimeType: string;
  /** The file's bytes; empty when it was spooled. */
  bytes: Uint8Array;
  size: number;
  /** Set when the file was larger than `spool.thresholdBytes`: it is on disk, never whole in memory. The caller removes it. */
  spooled?: Spool;
}

export interface MultipartForm {
  fields: Map<string, string>;
  files: Map<string, UploadedFile>;
  /** With `repeatedFiles`: every file sent in the one file field, in order. */
  fileList: UploadedFile[];
}

export interface MultipartLimits {
  /** Largest file, in bytes; one byte more fails the request with resource_exhausted. */
  maxFileBytes: number;
  /** Largest text field (a manifest), in bytes. */
  maxFieldBytes: number;
  /** Names of the parts that may carry a file; other file parts are refused. */
  fileFields: readonly string[];
  /** How many files the (single) file field may carry, repeated (`files=…&files=…`). Absent: one. */
  repeatedFiles?: number;
  /** A file larger than `thresholdBytes` goes to a private file under `dir` instead of memory. */
  spool?: { thresholdBytes: number; dir: string };
}

const MAX_PARTS = 32;

/**
 * Parses a multipart/form-data upload with busboy, holding at most one file of at most
 * `maxFileBytes` in memory: the size limit is enforced while the bytes stream in, and a declared
 * Content-Length far beyond it is refused before reading anything.
 */
export async function readMultipartForm(exchange: Exchange, limits: MultipartLimits): Promise<MultipartForm> {
  const contentType = header(exchange.req, 'content-type') ?? '';
  if (!/^multipart\/form-data\s*;/i.test(contentType)) {
    throw invalidArgument('send the request as multipart/form-data (curl -F, or a FormData body)');
  }
  const declared = Number(header(exchange.req, 'content-length') ?? Number.NaN);
  // The other fields are small; a body larger than the file limit plus all of them cannot fit.
  if (Number.isFinite(declared) && declared > limits.maxFileBytes + limits.maxFieldBytes * 4) {
    throw tooLarge('the uploaded file', limits.maxFileBytes);
  }

  return new Promise<MultipartForm>((resolve, reject) => {
    const form: MultipartForm = { fields: new Map(), files: new Map(), fileList: [] };
    let failed = false;
    let pendingFiles = 0;
    let parserClosed = false;
    let parser: busboy.Busboy;
    try {
      parser = busboy({
        headers: { 'content-type': contentType },
        limits: { fileSize: limits.maxFileBytes, fieldSize: limits.maxFieldBytes, parts: MAX_PARTS, files: limits.repeatedFiles ?? limits.fileFields.length, fields: MAX_PARTS },
      });
    } catch (cause) {
      reject(invalidArgument('the multipart/form-data body has no usable boundary', { cause }));
      return;
    }
    const spools: Spool[] = [];
    const fail = (error: unknown) => {
      if (failed) return;
      failed = true;
      for (const spool of spools) void spool.remove();
      exchange.req.unpipe(parser);
      reject(error);
    };
    const finishIfDone = () => {
      if (!failed && parserClosed && pendingFiles === 0) resolve(form);
    };

    parser.on('file', (field, stream, info) => {
      if (!limits.fileFields.includes(field)) {
        stream.resume();
        fail(invalidArgument(`unexpected file in the field "${field}"; files go in ${limits.fileFields.map((f) => `"${f}"`).join(' or ')}`, { details: { field } }));
        return;
      }
      if (form.files.has(field) && limits.repeatedFiles === undefined) {
        stream.resume();
        fail(invalidArgument(`send one file in "${field}", not several`, { details: { field } }));
        return;
      }
      pendingFiles++;
      const chunks: Buffer[] = [];
      let size = 0;
      let spool: Spool | undefined;
      // Writes to the spool, in order; the part's stream waits (paused) for each.
      let writing = Promise.resolve();
      const spoolTo = limits.spool;
      stream.on('data', (chunk: Buffer) => {
        size += chunk.length;
        if (spoolTo === undefined || (spool === undefined && size <= spoolTo.thresholdBytes)) {
          chunks.push(chunk);
          return;
        }
        stream.pause();
        writing = writing
          .then(async () => {
            if (failed) return;
            if (spool === undefined) {
              spool = await createSpool(spoolTo.dir);
              spools.push(spool);
              for (const earlier of chunks.splice(0)) await spool.write(earlier);
            }
            await spool.write(chunk);
          })
          .then(() => {
            stream.resume();
          }, fail);
      });
      stream.on('limit', () => {
        stream.resume();
        fail(tooLarge('the uploaded file', limits.maxFileBytes));
      });
      stream.on('error', fail);
      stream.on('end', () => {
        void writing.then(async () => {
          if (failed) return;
          pendingFiles--;
          if (!stream.truncated) {
            if (spool !== undefined) await spool.finish();
            const file = {
              field,
              filename: baseName(info.filename ?? ''),
              mimeType: (info.mimeType ?? 'application/octet-stream').toLowerCase(),
              bytes: spool === undefined ? Buffer.concat(chunks, size) : new Uint8Array(0),
              size,
              ...(spool === undefined ? {} : { spooled: spool }),
            };
            form.files.set(field, file);
            form.fileList.push(file);
          }
          finishIfDone();
        }, fail);
      });
    });
    parser.on('field', (field, value, info) => {
      if (info.valueTruncated) {
        fail(invalidArgument(`the field "${field}" is longer than ${limits.maxFieldBytes} bytes`, { details: { field } }));
        return;
      }
      if (form.fields.has(field)) {
        fail(invalidArgument(`send the field "${field}" once`, { details: { field } }));
        return;
      }
      form.fields.set(field, value);
    });
    parser.on('partsLimit', () => fail(invalidArgument(`the form has more than ${MAX_PARTS} parts`)));
    parser.on('filesLimit', () => fail(invalidArgument(`the form has more files than ${limits.fileFields.map((f) => `"${f}"`).join(', ')}`)));
    parser.on('error', (cause: Error) => fail(invalidArgument(`the multipart/form-data body is malformed: ${cause.message}`, { cause })));
    parser.on('close', () => {
      parserClosed = true;
      finishIfDone();
    });
    exchange.req.on('error', fail);
    exchange.req.on('aborted', () => fail(invalidArgument('the upload was aborted before it finished')));
    exchange.req.pipe(parser);
  });
}

/** Browsers send bare names, some clients full paths: keep only the last segment. */
function baseName(filename: string): string {
  return filename.split(/[\\/]/).pop() ?? '';
}
