import path from 'node:path';

const TYPES: Record<string, [mimeType: string, category: string]> = {
  '.csv': ['text/csv', 'csv'],
  '.tsv': ['text/tab-separated-values', 'csv'],
  '.pdf': ['application/pdf', 'pdf'],
  '.png': ['image/png', 'image'],
  '.jpg': ['image/jpeg', 'image'],
  '.jpeg': ['image/jpeg', 'image'],
  '.gif': ['image/gif', 'image'],
  '.webp': ['image/webp', 'image'],
  '.svg': ['image/svg+xml', 'image'],
  '.txt': ['text/plain', 'text'],
  '.md': ['text/markdown', 'text'],
  '.json': ['application/json', 'data'],
  '.xml': ['application/xml', 'data'],
  '.yaml': ['application/yaml', 'data'],
  '.yml': ['application/yaml', 'data'],
  '.html': ['text/html', 'code'],
  '.css': ['text/css', 'code'],
  '.js': ['text/javascript', 'code'],
  '.ts': ['text/x-typescript', 'code'],
  '.py': ['text/x-python', 'code'],
  '.sh': ['text/x-shellscript', 'code'],
  '.sql': ['application/sql', 'code'],
  '.zip': ['application/zip', 'archive'],
  '.xlsx': ['application/vnd.openxmlformats-officedocument.spreadsheetml.sheet', 'spreadsheet'],
  '.docx': ['application/vnd.openxmlformats-officedocument.wordprocessingml.document', 'document'],
};

/** MIME type and artifact category from a file name. */
export function describeFileType(name: string): { mimeType: string; category: string } {
  const entry = TYPES[path.extname(name).toLowerCase()];
  return entry ? { mimeType: entry[0], category: entry[1] } : { mimeType: 'application/octet-stream', category: 'other' };
}
