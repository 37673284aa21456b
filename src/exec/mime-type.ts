// The Content-Type aws-cli v1 sets on an upload: Python's mimetypes.guess_type(path)[0] (awscli
// s3transfer's guess_content_type), which reads the built-in table and then the system's mime.types
// files, later entries winning. Ported from CPython 3.11's Lib/mimetypes.py (the Python aws-cli runs
// on here): the same suffix and encoding maps, the same lookup. No type: no Content-Type header.
// https://github.com/python/cpython/blob/3.11/Lib/mimetypes.py
import { readFileSync } from 'node:fs';

const SUFFIX: Readonly<Record<string, string>> = { '.svgz': '.svg.gz', '.tgz': '.tar.gz', '.taz': '.tar.gz', '.tz': '.tar.gz', '.tbz2': '.tar.bz2', '.txz': '.tar.xz' };
const ENCODINGS = new Set(['.gz', '.Z', '.bz2', '.xz', '.br']);
/** Python's knownfiles, read in this order where they exist (Windows reads its registry: aws-cli uploads there). */
export const KNOWN_FILES = [
  '/etc/mime.types', '/etc/httpd/mime.types', '/etc/httpd/conf/mime.types', '/etc/apache/mime.types', '/etc/apache2/mime.types',
  '/usr/local/etc/httpd/conf/mime.types', '/usr/local/lib/netscape/mime.types', '/usr/local/etc/httpd/conf/mime.types', '/usr/local/etc/mime.types',
];

// mimetypes._types_map_default of CPython 3.11.
const DEFAULT: Readonly<Record<string, string>> = {
  '.3g2': 'audio/3gpp2', '.3gp': 'audio/3gpp', '.3gpp': 'audio/3gpp', '.3gpp2': 'audio/3gpp2',
  '.a': 'application/octet-stream', '.aac': 'audio/aac', '.adts': 'audio/aac', '.ai': 'application/postscript',
  '.aif': 'audio/x-aiff', '.aifc': 'audio/x-aiff', '.aiff': 'audio/x-aiff', '.ass': 'audio/aac', '.au': 'audio/basic',
  '.avi': 'video/x-msvideo', '.avif': 'image/avif', '.bat': 'text/plain', '.bcpio': 'application/x-bcpio',
  '.bin': 'application/octet-stream', '.bmp': 'image/bmp', '.c': 'text/plain', '.cdf': 'application/x-netcdf',
  '.cpio': 'application/x-cpio', '.csh': 'application/x-csh', '.css': 'text/css', '.csv': 'text/csv',
  '.dll': 'application/octet-stream', '.doc': 'application/msword', '.dot': 'application/msword',
  '.dvi': 'application/x-dvi', '.eml': 'message/rfc822', '.eps': 'application/postscript', '.etx': 'text/x-setext',
  '.exe': 'application/octet-stream', '.gif': 'image/gif', '.gtar': 'application/x-gtar', '.h': 'text/plain',
  '.h5': 'application/x-hdf5', '.hdf': 'application/x-hdf', '.heic': 'image/heic', '.heif': 'image/heif',
  '.htm': 'text/html', '.html': 'text/html', '.ico': 'image/vnd.microsoft.icon', '.ief': 'image/ief',
  '.jpe': 'image/jpeg', '.jpeg': 'image/jpeg', '.jpg': 'image/jpeg', '.js': 'application/javascript',
  '.json': 'application/json', '.ksh': 'text/plain', '.latex': 'application/x-latex', '.loas': 'audio/aac',
  '.m1v': 'video/mpeg', '.m3u': 'application/vnd.apple.mpegurl', '.m3u8': 'application/vnd.apple.mpegurl',
  '.man': 'application/x-troff-man', '.me': 'application/x-troff-me', '.mht': 'message/rfc822',
  '.mhtml': 'message/rfc822', '.mif': 'application/x-mif', '.mjs': 'application/javascript', '.mov': 'video/quicktime',
  '.movie': 'video/x-sgi-movie', '.mp2': 'audio/mpeg', '.mp3': 'audio/mpeg', '.mp4': 'video/mp4', '.mpa': 'video/mpeg',
  '.mpe': 'video/mpeg', '.mpeg': 'video/mpeg', '.mpg': 'video/mpeg', '.ms': 'application/x-troff-ms', '.n3': 'text/n3',
  '.nc': 'application/x-netcdf', '.nq': 'application/n-quads', '.nt': 'application/n-triples',
  '.nws': 'message/rfc822', '.o': 'application/octet-stream', '.obj': 'application/octet-stream',
  '.oda': 'application/oda', '.opus': 'audio/opus', '.p12': 'application/x-pkcs12', '.p7c': 'application/pkcs7-mime',
  '.pbm': 'image/x-portable-bitmap', '.pdf': 'application/pdf', '.pfx': 'application/x-pkcs12',
  '.pgm': 'image/x-portable-graymap', '.pl': 'text/plain', '.png': 'image/png', '.pnm': 'image/x-portable-anymap',
  '.pot': 'application/vnd.ms-powerpoint', '.ppa': 'application/vnd.ms-powerpoint', '.ppm': 'image/x-portable-pixmap',
  '.pps': 'application/vnd.ms-powerpoint', '.ppt': 'application/vnd.ms-powerpoint', '.ps': 'application/postscript',
  '.pwz': 'application/vnd.ms-powerpoint', '.py': 'text/x-python', '.pyc': 'application/x-python-code',
  '.pyo': 'application/x-python-code', '.qt': 'video/quicktime', '.ra': 'audio/x-pn-realaudio',
  '.ram': 'application/x-pn-realaudio', '.ras': 'image/x-cmu-raster', '.rdf': 'application/xml', '.rgb': 'image/x-rgb',
  '.roff': 'application/x-troff', '.rtx': 'text/richtext', '.sgm': 'text/x-sgml', '.sgml': 'text/x-sgml',
  '.sh': 'application/x-sh', '.shar': 'application/x-shar', '.snd': 'audio/basic', '.so': 'application/octet-stream',
  '.src': 'application/x-wais-source', '.srt': 'text/plain', '.sv4cpio': 'application/x-sv4cpio',
  '.sv4crc': 'application/x-sv4crc', '.svg': 'image/svg+xml', '.swf': 'application/x-shockwave-flash',
  '.t': 'application/x-troff', '.tar': 'application/x-tar', '.tcl': 'application/x-tcl', '.tex': 'application/x-tex',
  '.texi': 'application/x-texinfo', '.texinfo': 'application/x-texinfo', '.tif': 'image/tiff', '.tiff': 'image/tiff',
  '.tr': 'application/x-troff', '.trig': 'application/trig', '.tsv': 'text/tab-separated-values', '.txt': 'text/plain',
  '.ustar': 'application/x-ustar', '.vcf': 'text/x-vcard', '.vtt': 'text/vtt', '.wasm': 'application/wasm',
  '.wav': 'audio/x-wav', '.webm': 'video/webm', '.webmanifest': 'application/manifest+json',
  '.wiz': 'application/msword', '.wsdl': 'application/xml', '.xbm': 'image/x-xbitmap',
  '.xlb': 'application/vnd.ms-excel', '.xls': 'application/vnd.ms-excel', '.xml': 'text/xml',
  '.xpdl': 'application/xml', '.xpm': 'image/x-xpixmap', '.xsl': 'application/xml', '.xwd': 'image/x-xwindowdump',
  '.zip': 'application/zip',
};

/** posixpath.splitext: a name's leading dots start no extension. */
export function splitext(p: string): [string, string] {
  const slash = p.lastIndexOf('/');
  const dot = p.lastIndexOf('.');
  if (dot > slash) {
    for (let i = slash + 1; i < dot; i++) if (p[i] !== '.') return [p.slice(0, dot), p.slice(dot)];
  }
  return [p, ''];
}

/** A mime.types file's lines into `into`, as mimetypes.readfp adds them ('#' starts a comment word). */
export function readMimeTypes(text: string, into: Map<string, string>): void {
  for (const line of text.split('\n')) {
    const words = line.split(/\s+/).filter(Boolean);
    const comment = words.findIndex((w) => w.startsWith('#'));
    if (comment >= 0) words.length = comment;
    const [type, ...suffixes] = words;
    if (type) for (const s of suffixes) into.set(`.${s}`, type);
  }
}

let table: Map<string, string> | undefined;

/** The table Python builds at init: the defaults, then each known file that can be read. */
export function mimeTable(read: (file: string) => string | undefined = readOrNone): Map<string, string> {
  const t = new Map(Object.entries(DEFAULT));
  for (const file of KNOWN_FILES) {
    const text = read(file);
    if (text !== undefined) readMimeTypes(text, t);
  }
  return t;
}

function readOrNone(file: string): string | undefined {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
}

/** mimetypes.guess_type(path)[0] with strict=True; `types` from mimeTable (read once per process by default). */
export function guessContentType(path: string, types: Map<string, string> = (table ??= mimeTable())): string | undefined {
  let [base, ext] = splitext(path);
  while (SUFFIX[ext.toLowerCase()] !== undefined) [base, ext] = splitext(base + SUFFIX[ext.toLowerCase()]);
  // Encoding suffixes are matched case-sensitively, types after lowering.
  if (ENCODINGS.has(ext)) [, ext] = splitext(base);
  return types.get(ext.toLowerCase());
}
