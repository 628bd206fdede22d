import busboy from 'busboy';

/**
 * One file field of a multipart/form-data body already read into memory. Null when the body is
 * malformed or carries no such field.
 */
export function multipartFile(contentType: string, body: Buffer, field: string): Promise<Buffer | null> {
  return new Promise((resolve) => {
    let found: Buffer | null = null;
    let parser: busboy.Busboy;
    try {
      parser = busboy({ headers: { 'content-type': contentType } });
    } catch {
      resolve(null);
      return;
    }
    parser.on('file', (name, stream) => {
      const chunks: Buffer[] = [];
      stream.on('data', (chunk: Buffer) => chunks.push(chunk));
      stream.on('end', () => {
        if (name === field && found === null) found = Buffer.concat(chunks);
      });
    });
    parser.on('close', () => resolve(found));
    parser.on('error', () => resolve(null));
    parser.end(body);
  });
}
