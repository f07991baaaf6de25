"""Signatures of the PFA 0.8.1 function library, in a compact notation (see sigs.py).

Transcribed from the specification's function list (libfcns.xml). Each entry: name ->
(signatures, runtime error codes, nondeterministic). Notation: ``array<T>``, ``map<T>``, ``A|B`` (union),
``any L [of {t, ...}]`` (wildcard), ``L`` (label reference), ``record L {f: T, ...}``, ``enum L [of R]``,
``fixed L``, ``fcn(T, ... -> R)``.
"""

LIBRARY: dict[str, tuple[tuple[str, ...], tuple[int, ...], bool]] = {
    '+': ((
        '(x: any A of {int, long, float, double}, y: A) -> A',
    ), (18000, 18001), False),
    '-': ((
        '(x: any A of {int, long, float, double}, y: A) -> A',
    ), (18010, 18011), False),
    '*': ((
        '(x: any A of {int, long, float, double}, y: A) -> A',
    ), (18020, 18021), False),
    '/': ((
        '(x: double, y: double) -> double',
    ), (), False),
    '//': ((
        '(x: any A of {int, long}, y: A) -> A',
    ), (18040,), False),
    'u-': ((
        '(x: any A of {int, long, float, double}) -> A',
    ), (18050, 18051), False),
    '%': ((
        '(k: any A of {int, long, float, double}, n: A) -> A',
    ), (18060,), False),
    '%%': ((
        '(k: any A of {int, long, float, double}, n: A) -> A',
    ), (18070,), False),
    '**': ((
        '(x: any A of {int, long, float, double}, y: A) -> A',
    ), (18080, 18081), False),
    'cmp': ((
        '(x: any A, y: A) -> int',
    ), (), False),
    '==': ((
        '(x: any A, y: A) -> boolean',
    ), (), False),
    '>=': ((
        '(x: any A, y: A) -> boolean',
    ), (), False),
    '>': ((
        '(x: any A, y: A) -> boolean',
    ), (), False),
    '!=': ((
        '(x: any A, y: A) -> boolean',
    ), (), False),
    '<': ((
        '(x: any A, y: A) -> boolean',
    ), (), False),
    '<=': ((
        '(x: any A, y: A) -> boolean',
    ), (), False),
    'max': ((
        '(x: any A, y: A) -> A',
    ), (), False),
    'min': ((
        '(x: any A, y: A) -> A',
    ), (), False),
    '&&': ((
        '(x: boolean, y: boolean) -> boolean',
    ), (), False),
    '||': ((
        '(x: boolean, y: boolean) -> boolean',
    ), (), False),
    '^^': ((
        '(x: boolean, y: boolean) -> boolean',
    ), (), False),
    '!': ((
        '(x: boolean) -> boolean',
    ), (), False),
    '&&&': ((
        '(x: boolean|null, y: boolean|null) -> boolean|null',
    ), (), False),
    '|||': ((
        '(x: boolean|null, y: boolean|null) -> boolean|null',
    ), (), False),
    '!!!': ((
        '(x: boolean|null) -> boolean|null',
    ), (), False),
    '&': ((
        '(x: int, y: int) -> int',
        '(x: long, y: long) -> long',
    ), (), False),
    '|': ((
        '(x: int, y: int) -> int',
        '(x: long, y: long) -> long',
    ), (), False),
    '^': ((
        '(x: int, y: int) -> int',
        '(x: long, y: long) -> long',
    ), (), False),
    '~': ((
        '(x: int) -> int',
        '(x: long) -> long',
    ), (), False),
    'm.pi': ((
        '() -> double',
    ), (), False),
    'm.e': ((
        '() -> double',
    ), (), False),
    'm.abs': ((
        '(x: any A of {int, long, float, double}) -> A',
    ), (27020, 27021), False),
    'm.acos': ((
        '(x: double) -> double',
    ), (), False),
    'm.asin': ((
        '(x: double) -> double',
    ), (), False),
    'm.atan': ((
        '(x: double) -> double',
    ), (), False),
    'm.atan2': ((
        '(y: double, x: double) -> double',
    ), (), False),
    'm.ceil': ((
        '(x: double) -> double',
    ), (), False),
    'm.copysign': ((
        '(mag: any A of {int, long, float, double}, sign: A) -> A',
    ), (), False),
    'm.cos': ((
        '(x: double) -> double',
    ), (), False),
    'm.cosh': ((
        '(x: double) -> double',
    ), (), False),
    'm.exp': ((
        '(x: double) -> double',
    ), (), False),
    'm.expm1': ((
        '(x: double) -> double',
    ), (), False),
    'm.floor': ((
        '(x: double) -> double',
    ), (), False),
    'm.hypot': ((
        '(x: double, y: double) -> double',
    ), (), False),
    'm.ln': ((
        '(x: double) -> double',
    ), (), False),
    'm.log10': ((
        '(x: double) -> double',
    ), (), False),
    'm.log': ((
        '(x: double, base: int) -> double',
    ), (27170,), False),
    'm.ln1p': ((
        '(x: double) -> double',
    ), (), False),
    'm.round': ((
        '(x: float) -> int',
        '(x: double) -> long',
    ), (27190, 27191), False),
    'm.rint': ((
        '(x: double) -> double',
    ), (), False),
    'm.signum': ((
        '(x: double) -> int',
    ), (), False),
    'm.sin': ((
        '(x: double) -> double',
    ), (), False),
    'm.sinh': ((
        '(x: double) -> double',
    ), (), False),
    'm.sqrt': ((
        '(x: double) -> double',
    ), (), False),
    'm.tan': ((
        '(x: double) -> double',
    ), (), False),
    'm.tanh': ((
        '(x: double) -> double',
    ), (), False),
    'm.special.nChooseK': ((
        '(n: int, k: int) -> int',
    ), (36000,), False),
    'm.special.lnBeta': ((
        '(a: double, b: double) -> double',
    ), (36010,), False),
    'm.special.erf': ((
        '(x: double) -> double',
    ), (), False),
    'm.special.erfc': ((
        '(x: double) -> double',
    ), (), False),
    'm.special.lnGamma': ((
        '(x: double) -> double',
    ), (), False),
    'm.link.softmax': ((
        '(x: array<double>) -> array<double>',
        '(x: map<double>) -> map<double>',
    ), (25000,), False),
    'm.link.logit': ((
        '(x: double) -> double',
        '(x: array<double>) -> array<double>',
        '(x: map<double>) -> map<double>',
    ), (), False),
    'm.link.probit': ((
        '(x: double) -> double',
        '(x: array<double>) -> array<double>',
        '(x: map<double>) -> map<double>',
    ), (), False),
    'm.link.cloglog': ((
        '(x: double) -> double',
        '(x: array<double>) -> array<double>',
        '(x: map<double>) -> map<double>',
    ), (), False),
    'm.link.loglog': ((
        '(x: double) -> double',
        '(x: array<double>) -> array<double>',
        '(x: map<double>) -> map<double>',
    ), (), False),
    'm.link.cauchit': ((
        '(x: double) -> double',
        '(x: array<double>) -> array<double>',
        '(x: map<double>) -> map<double>',
    ), (), False),
    'm.link.softplus': ((
        '(x: double) -> double',
        '(x: array<double>) -> array<double>',
        '(x: map<double>) -> map<double>',
    ), (), False),
    'm.link.relu': ((
        '(x: double) -> double',
        '(x: array<double>) -> array<double>',
        '(x: map<double>) -> map<double>',
    ), (), False),
    'm.link.tanh': ((
        '(x: double) -> double',
        '(x: array<double>) -> array<double>',
        '(x: map<double>) -> map<double>',
    ), (), False),
    'm.kernel.linear': ((
        '(x: array<double>, y: array<double>) -> double',
    ), (23000,), False),
    'm.kernel.rbf': ((
        '(x: array<double>, y: array<double>, gamma: double) -> double',
    ), (23010,), False),
    'm.kernel.poly': ((
        '(x: array<double>, y: array<double>, gamma: double, intercept: double, degree: double) -> double',
    ), (23020,), False),
    'm.kernel.sigmoid': ((
        '(x: array<double>, y: array<double>, gamma: double, intercept: double) -> double',
    ), (23030,), False),
    'la.map': ((
        '(x: array<array<double>>, fcn: fcn(double -> double)) -> array<array<double>>',
        '(x: map<map<double>>, fcn: fcn(double -> double)) -> map<map<double>>',
    ), (), False),
    'la.scale': ((
        '(x: array<double>, alpha: double) -> array<double>',
        '(x: array<array<double>>, alpha: double) -> array<array<double>>',
        '(x: map<double>, alpha: double) -> map<double>',
        '(x: map<map<double>>, alpha: double) -> map<map<double>>',
    ), (), False),
    'la.zipmap': ((
        '(x: array<array<double>>, y: array<array<double>>, fcn: fcn(double, double -> double)) -> array<array<double>>',
        '(x: map<map<double>>, y: map<map<double>>, fcn: fcn(double, double -> double)) -> map<map<double>>',
    ), (24020,), False),
    'la.add': ((
        '(x: array<double>, y: array<double>) -> array<double>',
        '(x: array<array<double>>, y: array<array<double>>) -> array<array<double>>',
        '(x: map<double>, y: map<double>) -> map<double>',
        '(x: map<map<double>>, y: map<map<double>>) -> map<map<double>>',
    ), (24030,), False),
    'la.sub': ((
        '(x: array<double>, y: array<double>) -> array<double>',
        '(x: array<array<double>>, y: array<array<double>>) -> array<array<double>>',
        '(x: map<double>, y: map<double>) -> map<double>',
        '(x: map<map<double>>, y: map<map<double>>) -> map<map<double>>',
    ), (24040,), False),
    'la.dot': ((
        '(x: array<array<double>>, y: array<double>) -> array<double>',
        '(x: map<map<double>>, y: map<double>) -> map<double>',
        '(x: array<array<double>>, y: array<array<double>>) -> array<array<double>>',
        '(x: map<map<double>>, y: map<map<double>>) -> map<map<double>>',
    ), (24050, 24051, 24052), False),
    'la.transpose': ((
        '(x: array<array<double>>) -> array<array<double>>',
        '(x: map<map<double>>) -> map<map<double>>',
    ), (24060, 24061), False),
    'la.inverse': ((
        '(x: array<array<double>>) -> array<array<double>>',
        '(x: map<map<double>>) -> map<map<double>>',
    ), (24070, 24071), False),
    'la.trace': ((
        '(x: array<array<double>>) -> double',
        '(x: map<map<double>>) -> double',
    ), (24080,), False),
    'la.det': ((
        '(x: array<array<double>>) -> double',
        '(x: map<map<double>>) -> double',
    ), (24090, 24091, 24092), False),
    'la.symmetric': ((
        '(x: array<array<double>>, tolerance: double) -> boolean',
        '(x: map<map<double>>, tolerance: double) -> boolean',
    ), (24100, 24101, 24102), False),
    'la.eigenBasis': ((
        '(x: array<array<double>>) -> array<array<double>>',
        '(x: map<map<double>>) -> map<map<double>>',
    ), (24110, 24111, 24112, 24113), True),
    'la.truncate': ((
        '(x: array<array<double>>, keep: int) -> array<array<double>>',
        '(x: map<map<double>>, keep: array<string>) -> map<map<double>>',
    ), (24120, 24121), False),
    'metric.simpleEuclidean': ((
        '(x: array<double>, y: array<double>) -> double',
    ), (28000,), False),
    'metric.absDiff': ((
        '(x: double, y: double) -> double',
    ), (), False),
    'metric.gaussianSimilarity': ((
        '(x: double, y: double, sigma: double) -> double',
    ), (), False),
    'metric.euclidean': ((
        '(similarity: fcn(any A, any B -> double), x: array<null|A>, y: array<null|B>) -> double',
        '(similarity: fcn(any A, any B -> double), x: array<null|A>, y: array<null|B>, missingWeight: array<double>) -> double',
    ), (28030,), False),
    'metric.squaredEuclidean': ((
        '(similarity: fcn(double, double -> double), x: array<null|double>, y: array<null|double>) -> double',
        '(similarity: fcn(double, double -> double), x: array<null|double>, y: array<null|double>, missingWeight: array<double>) -> double',
    ), (28040,), False),
    'metric.chebyshev': ((
        '(similarity: fcn(double, double -> double), x: array<null|double>, y: array<null|double>) -> double',
        '(similarity: fcn(double, double -> double), x: array<null|double>, y: array<null|double>, missingWeight: array<double>) -> double',
    ), (28050,), False),
    'metric.taxicab': ((
        '(similarity: fcn(double, double -> double), x: array<null|double>, y: array<null|double>) -> double',
        '(similarity: fcn(double, double -> double), x: array<null|double>, y: array<null|double>, missingWeight: array<double>) -> double',
    ), (28060,), False),
    'metric.minkowski': ((
        '(similarity: fcn(double, double -> double), x: array<null|double>, y: array<null|double>, p: double) -> double',
        '(similarity: fcn(double, double -> double), x: array<null|double>, y: array<null|double>, p: double, missingWeight: array<double>) -> double',
    ), (28070, 28071), False),
    'metric.simpleMatching': ((
        '(x: array<boolean>, y: array<boolean>) -> double',
    ), (28080,), False),
    'metric.jaccard': ((
        '(x: array<boolean>, y: array<boolean>) -> double',
    ), (28090,), False),
    'metric.tanimoto': ((
        '(x: array<boolean>, y: array<boolean>) -> double',
    ), (28100,), False),
    'metric.binarySimilarity': ((
        '(x: array<boolean>, y: array<boolean>, c00: double, c01: double, c10: double, c11: double, d00: double, d01: double, d10: double, d11: double) -> double',
    ), (28110,), False),
    'rand.int': ((
        '() -> int',
        '(low: int, high: int) -> int',
    ), (34000,), True),
    'rand.long': ((
        '() -> long',
        '(low: long, high: long) -> long',
    ), (34010,), True),
    'rand.float': ((
        '(low: float, high: float) -> float',
    ), (34020,), True),
    'rand.double': ((
        '(low: double, high: double) -> double',
    ), (34030,), True),
    'rand.choice': ((
        '(population: array<any A>) -> A',
    ), (34040,), True),
    'rand.choices': ((
        '(size: int, population: array<any A>) -> array<A>',
    ), (34050,), True),
    'rand.sample': ((
        '(size: int, population: array<any A>) -> array<A>',
    ), (34060, 34061), True),
    'rand.histogram': ((
        '(distribution: array<double>) -> int',
        '(distribution: array<record A {prob: double}>) -> A',
    ), (34070, 34071, 34072), True),
    'rand.string': ((
        '(size: int) -> string',
        '(size: int, population: string) -> string',
        '(size: int, low: int, high: int) -> string',
    ), (34080, 34081, 34082, 34083), True),
    'rand.bytes': ((
        '(size: int) -> bytes',
        '(size: int, population: bytes) -> bytes',
        '(size: int, low: int, high: int) -> bytes',
    ), (34090, 34091, 34092, 34093), True),
    'rand.uuid': ((
        '() -> string',
    ), (), True),
    'rand.uuid4': ((
        '() -> string',
    ), (), True),
    'rand.gaussian': ((
        '(mu: double, sigma: double) -> double',
    ), (), True),
    's.len': ((
        '(s: string) -> int',
    ), (), False),
    's.substr': ((
        '(s: string, start: int, end: int) -> string',
    ), (), False),
    's.substrto': ((
        '(s: string, start: int, end: int, replacement: string) -> string',
    ), (), False),
    's.contains': ((
        '(haystack: string, needle: string) -> boolean',
    ), (), False),
    's.count': ((
        '(haystack: string, needle: string) -> int',
    ), (), False),
    's.index': ((
        '(haystack: string, needle: string) -> int',
    ), (), False),
    's.rindex': ((
        '(haystack: string, needle: string) -> int',
    ), (), False),
    's.startswith': ((
        '(haystack: string, needle: string) -> boolean',
    ), (), False),
    's.endswith': ((
        '(haystack: string, needle: string) -> boolean',
    ), (), False),
    's.join': ((
        '(array: array<string>, sep: string) -> string',
    ), (), False),
    's.split': ((
        '(s: string, sep: string) -> array<string>',
    ), (), False),
    's.hex': ((
        '(x: long) -> string',
        '(x: long, width: int, zeroPad: boolean) -> string',
    ), (39110, 39111), False),
    's.int': ((
        '(x: long) -> string',
        '(x: long, width: int, zeroPad: boolean) -> string',
    ), (39240,), False),
    's.number': ((
        '(x: long) -> string',
        '(x: long, width: int, zeroPad: boolean) -> string',
        '(x: double, width: int|null, precision: int|null) -> string',
        '(x: double, width: int|null, precision: int|null, minNoExp: double, maxNoExp: double) -> string',
    ), (39120, 39121), True),
    's.concat': ((
        '(x: string, y: string) -> string',
    ), (), False),
    's.repeat': ((
        '(s: string, n: int) -> string',
    ), (), False),
    's.lower': ((
        '(s: string) -> string',
    ), (), False),
    's.upper': ((
        '(s: string) -> string',
    ), (), False),
    's.lstrip': ((
        '(s: string, chars: string) -> string',
    ), (), False),
    's.rstrip': ((
        '(s: string, chars: string) -> string',
    ), (), False),
    's.strip': ((
        '(s: string, chars: string) -> string',
    ), (), False),
    's.replaceall': ((
        '(s: string, original: string, replacement: string) -> string',
    ), (), False),
    's.replacefirst': ((
        '(s: string, original: string, replacement: string) -> string',
    ), (), False),
    's.replacelast': ((
        '(s: string, original: string, replacement: string) -> string',
    ), (), False),
    's.translate': ((
        '(s: string, oldchars: string, newchars: string) -> string',
    ), (), False),
    're.index': ((
        '(haystack: string, pattern: string) -> array<int>',
        '(haystack: bytes, pattern: bytes) -> array<int>',
    ), (35000,), False),
    're.contains': ((
        '(haystack: string, pattern: string) -> boolean',
        '(haystack: bytes, pattern: bytes) -> boolean',
    ), (35010,), False),
    're.count': ((
        '(haystack: string, pattern: string) -> int',
        '(haystack: bytes, pattern: bytes) -> int',
    ), (35020,), False),
    're.rindex': ((
        '(haystack: string, pattern: string) -> array<int>',
        '(haystack: bytes, pattern: bytes) -> array<int>',
    ), (35030,), False),
    're.groups': ((
        '(haystack: string, pattern: string) -> array<array<int>>',
        '(haystack: bytes, pattern: bytes) -> array<array<int>>',
    ), (35040,), False),
    're.indexall': ((
        '(haystack: string, pattern: string) -> array<array<int>>',
        '(haystack: bytes, pattern: bytes) -> array<array<int>>',
    ), (35050,), False),
    're.findall': ((
        '(haystack: string, pattern: string) -> array<string>',
        '(haystack: bytes, pattern: bytes) -> array<bytes>',
    ), (35060,), False),
    're.findfirst': ((
        '(haystack: string, pattern: string) -> string|null',
        '(haystack: bytes, pattern: bytes) -> bytes|null',
    ), (35070,), False),
    're.findgroupsfirst': ((
        '(haystack: string, pattern: string) -> array<string>',
        '(haystack: bytes, pattern: bytes) -> array<bytes>',
    ), (35080,), False),
    're.findgroupsall': ((
        '(haystack: string, pattern: string) -> array<array<string>>',
        '(haystack: bytes, pattern: bytes) -> array<array<bytes>>',
    ), (35090,), False),
    're.groupsall': ((
        '(haystack: string, pattern: string) -> array<array<array<int>>>',
        '(haystack: bytes, pattern: bytes) -> array<array<array<int>>>',
    ), (35100,), False),
    're.replacefirst': ((
        '(haystack: string, pattern: string, replacement: string) -> string',
        '(haystack: bytes, pattern: bytes, replacement: bytes) -> bytes',
    ), (35110,), False),
    're.replacelast': ((
        '(haystack: string, pattern: string, replacement: string) -> string',
        '(haystack: bytes, pattern: bytes, replacement: bytes) -> bytes',
    ), (35120,), False),
    're.split': ((
        '(haystack: string, pattern: string) -> array<string>',
        '(haystack: bytes, pattern: bytes) -> array<bytes>',
    ), (35130,), False),
    're.replaceall': ((
        '(haystack: string, pattern: string, replacement: string) -> string',
        '(haystack: bytes, pattern: bytes, replacement: bytes) -> bytes',
    ), (35140,), False),
    'parse.int': ((
        '(str: string, base: int) -> int',
    ), (33000, 33001), False),
    'parse.long': ((
        '(str: string, base: int) -> long',
    ), (33010, 33011), False),
    'parse.float': ((
        '(str: string) -> float',
    ), (33020,), False),
    'parse.double': ((
        '(str: string) -> double',
    ), (33030,), False),
    'cast.signed': ((
        '(x: long, bits: int) -> long',
    ), (17000,), False),
    'cast.unsigned': ((
        '(x: long, bits: int) -> long',
    ), (17010,), False),
    'cast.int': ((
        '(x: int) -> int',
        '(x: long) -> int',
        '(x: float) -> int',
        '(x: double) -> int',
    ), (17020,), False),
    'cast.long': ((
        '(x: int) -> long',
        '(x: long) -> long',
        '(x: float) -> long',
        '(x: double) -> long',
    ), (17030,), False),
    'cast.float': ((
        '(x: int) -> float',
        '(x: long) -> float',
        '(x: float) -> float',
        '(x: double) -> float',
    ), (), False),
    'cast.double': ((
        '(x: int) -> double',
        '(x: long) -> double',
        '(x: float) -> double',
        '(x: double) -> double',
    ), (), False),
    'cast.fanoutBoolean': ((
        '(x: enum A) -> array<boolean>',
        '(x: string, dictionary: array<string>, outOfRange: boolean) -> array<boolean>',
        '(x: int, minimum: int, maximum: int, outOfRange: boolean) -> array<boolean>',
    ), (17060,), False),
    'cast.fanoutInt': ((
        '(x: enum A) -> array<int>',
        '(x: string, dictionary: array<string>, outOfRange: boolean) -> array<int>',
        '(x: int, minimum: int, maximum: int, outOfRange: boolean) -> array<int>',
    ), (17070,), False),
    'cast.fanoutLong': ((
        '(x: enum A) -> array<long>',
        '(x: string, dictionary: array<string>, outOfRange: boolean) -> array<long>',
        '(x: int, minimum: int, maximum: int, outOfRange: boolean) -> array<long>',
    ), (17080,), False),
    'cast.fanoutFloat': ((
        '(x: enum A) -> array<float>',
        '(x: string, dictionary: array<string>, outOfRange: boolean) -> array<float>',
        '(x: int, minimum: int, maximum: int, outOfRange: boolean) -> array<float>',
    ), (17090,), False),
    'cast.fanoutDouble': ((
        '(x: enum A) -> array<double>',
        '(x: string, dictionary: array<string>, outOfRange: boolean) -> array<double>',
        '(x: int, minimum: int, maximum: int, outOfRange: boolean) -> array<double>',
    ), (17100,), False),
    'cast.avro': ((
        '(x: any A) -> bytes',
    ), (), False),
    'cast.json': ((
        '(x: any A) -> string',
    ), (), True),
    'a.len': ((
        '(a: array<any A>) -> int',
    ), (), False),
    'a.subseq': ((
        '(a: array<any A>, start: int, end: int) -> array<A>',
    ), (), False),
    'a.head': ((
        '(a: array<any A>) -> A',
    ), (15020,), False),
    'a.tail': ((
        '(a: array<any A>) -> array<A>',
    ), (15030,), False),
    'a.last': ((
        '(a: array<any A>) -> A',
    ), (15040,), False),
    'a.init': ((
        '(a: array<any A>) -> array<A>',
    ), (15050,), False),
    'a.subseqto': ((
        '(a: array<any A>, start: int, end: int, replacement: array<A>) -> array<A>',
    ), (), False),
    'a.contains': ((
        '(haystack: array<any A>, needle: array<A>) -> boolean',
        '(haystack: array<any A>, needle: A) -> boolean',
        '(haystack: array<any A>, needle: fcn(A -> boolean)) -> boolean',
    ), (), False),
    'a.count': ((
        '(haystack: array<any A>, needle: array<A>) -> int',
        '(haystack: array<any A>, needle: A) -> int',
        '(haystack: array<any A>, needle: fcn(A -> boolean)) -> int',
    ), (), False),
    'a.index': ((
        '(haystack: array<any A>, needle: array<A>) -> int',
        '(haystack: array<any A>, needle: A) -> int',
        '(haystack: array<any A>, needle: fcn(A -> boolean)) -> int',
    ), (), False),
    'a.rindex': ((
        '(haystack: array<any A>, needle: array<A>) -> int',
        '(haystack: array<any A>, needle: A) -> int',
        '(haystack: array<any A>, needle: fcn(A -> boolean)) -> int',
    ), (), False),
    'a.startswith': ((
        '(haystack: array<any A>, needle: array<A>) -> boolean',
        '(haystack: array<any A>, needle: A) -> boolean',
    ), (), False),
    'a.endswith': ((
        '(haystack: array<any A>, needle: array<A>) -> boolean',
        '(haystack: array<any A>, needle: A) -> boolean',
    ), (), False),
    'a.concat': ((
        '(a: array<any A>, b: array<A>) -> array<A>',
    ), (), False),
    'a.append': ((
        '(a: array<any A>, item: A) -> array<A>',
    ), (), False),
    'a.cycle': ((
        '(a: array<any A>, item: A, maxLength: int) -> array<A>',
    ), (15150,), False),
    'a.insert': ((
        '(a: array<any A>, index: int, item: A) -> array<A>',
    ), (15160,), False),
    'a.replace': ((
        '(a: array<any A>, index: int, item: A) -> array<A>',
    ), (15170,), False),
    'a.remove': ((
        '(a: array<any A>, start: int, end: int) -> array<A>',
        '(a: array<any A>, index: int) -> array<A>',
    ), (15180,), False),
    'a.rotate': ((
        '(a: array<any A>, steps: int) -> array<A>',
    ), (15190,), False),
    'a.sort': ((
        '(a: array<any A>) -> array<A>',
    ), (), False),
    'a.sortLT': ((
        '(a: array<any A>, lessThan: fcn(A, A -> boolean)) -> array<A>',
    ), (), False),
    'a.shuffle': ((
        '(a: array<any A>) -> array<A>',
    ), (), True),
    'a.reverse': ((
        '(a: array<any A>) -> array<A>',
    ), (), False),
    'a.max': ((
        '(a: array<any A>) -> A',
    ), (15240,), False),
    'a.min': ((
        '(a: array<any A>) -> A',
    ), (15250,), False),
    'a.maxLT': ((
        '(a: array<any A>, lessThan: fcn(A, A -> boolean)) -> A',
    ), (15260,), False),
    'a.minLT': ((
        '(a: array<any A>, lessThan: fcn(A, A -> boolean)) -> A',
    ), (15270,), False),
    'a.maxN': ((
        '(a: array<any A>, n: int) -> array<A>',
    ), (15280, 15281), False),
    'a.minN': ((
        '(a: array<any A>, n: int) -> array<A>',
    ), (15290, 15291), False),
    'a.maxNLT': ((
        '(a: array<any A>, n: int, lessThan: fcn(A, A -> boolean)) -> array<A>',
    ), (15300, 15301), False),
    'a.minNLT': ((
        '(a: array<any A>, n: int, lessThan: fcn(A, A -> boolean)) -> array<A>',
    ), (15310, 15311), False),
    'a.argmax': ((
        '(a: array<any A>) -> int',
    ), (15320,), False),
    'a.argmin': ((
        '(a: array<any A>) -> int',
    ), (15330,), False),
    'a.argmaxLT': ((
        '(a: array<any A>, lessThan: fcn(A, A -> boolean)) -> int',
    ), (15340,), False),
    'a.argminLT': ((
        '(a: array<any A>, lessThan: fcn(A, A -> boolean)) -> int',
    ), (15350,), False),
    'a.argmaxN': ((
        '(a: array<any A>, n: int) -> array<int>',
    ), (15360, 15361), False),
    'a.argminN': ((
        '(a: array<any A>, n: int) -> array<int>',
    ), (15370, 15371), False),
    'a.argmaxNLT': ((
        '(a: array<any A>, n: int, lessThan: fcn(A, A -> boolean)) -> array<int>',
    ), (15380, 15381), False),
    'a.argminNLT': ((
        '(a: array<any A>, n: int, lessThan: fcn(A, A -> boolean)) -> array<int>',
    ), (15390, 15391), False),
    'a.sum': ((
        '(a: array<any A of {int, long, float, double}>) -> A',
    ), (15400, 15401), False),
    'a.product': ((
        '(a: array<any A of {int, long, float, double}>) -> A',
    ), (15410, 15411), False),
    'a.lnsum': ((
        '(a: array<double>) -> double',
    ), (), False),
    'a.mean': ((
        '(a: array<double>) -> double',
    ), (), False),
    'a.geomean': ((
        '(a: array<double>) -> double',
    ), (), False),
    'a.median': ((
        '(a: array<any A>) -> A',
    ), (15450,), False),
    'a.ntile': ((
        '(a: array<any A>, p: double) -> A',
    ), (15460, 15461), False),
    'a.mode': ((
        '(a: array<any A>) -> A',
    ), (15470,), False),
    'a.logsumexp': ((
        '(a: array<double>) -> double',
    ), (), False),
    'a.distinct': ((
        '(a: array<any A>) -> array<A>',
    ), (), False),
    'a.seteq': ((
        '(a: array<any A>, b: array<A>) -> boolean',
    ), (), False),
    'a.union': ((
        '(a: array<any A>, b: array<A>) -> array<A>',
    ), (), False),
    'a.intersection': ((
        '(a: array<any A>, b: array<A>) -> array<A>',
    ), (), False),
    'a.diff': ((
        '(a: array<any A>, b: array<A>) -> array<A>',
    ), (), False),
    'a.symdiff': ((
        '(a: array<any A>, b: array<A>) -> array<A>',
    ), (), False),
    'a.subset': ((
        '(little: array<any A>, big: array<A>) -> boolean',
    ), (), False),
    'a.disjoint': ((
        '(a: array<any A>, b: array<A>) -> boolean',
    ), (), False),
    'a.map': ((
        '(a: array<any A>, fcn: fcn(A -> any B)) -> array<B>',
    ), (), False),
    'a.mapWithIndex': ((
        '(a: array<any A>, fcn: fcn(int, A -> any B)) -> array<B>',
    ), (), False),
    'a.filter': ((
        '(a: array<any A>, fcn: fcn(A -> boolean)) -> array<A>',
    ), (), False),
    'a.filterWithIndex': ((
        '(a: array<any A>, fcn: fcn(int, A -> boolean)) -> array<A>',
    ), (), False),
    'a.filterMap': ((
        '(a: array<any A>, fcn: fcn(A -> any B|null)) -> array<B>',
    ), (), False),
    'a.filterMapWithIndex': ((
        '(a: array<any A>, fcn: fcn(int, A -> any B|null)) -> array<B>',
    ), (), False),
    'a.flatMap': ((
        '(a: array<any A>, fcn: fcn(A -> array<any B>)) -> array<B>',
    ), (), False),
    'a.flatMapWithIndex': ((
        '(a: array<any A>, fcn: fcn(int, A -> array<any B>)) -> array<B>',
    ), (), False),
    'a.zipmap': ((
        '(a: array<any A>, b: array<any B>, fcn: fcn(A, B -> any Z)) -> array<Z>',
        '(a: array<any A>, b: array<any B>, c: array<any C>, fcn: fcn(A, B, C -> any Z)) -> array<Z>',
        '(a: array<any A>, b: array<any B>, c: array<any C>, d: array<any D>, fcn: fcn(A, B, C, D -> any Z)) -> array<Z>',
    ), (15650,), False),
    'a.zipmapWithIndex': ((
        '(a: array<any A>, b: array<any B>, fcn: fcn(int, A, B -> any Z)) -> array<Z>',
        '(a: array<any A>, b: array<any B>, c: array<any C>, fcn: fcn(int, A, B, C -> any Z)) -> array<Z>',
        '(a: array<any A>, b: array<any B>, c: array<any C>, d: array<any D>, fcn: fcn(int, A, B, C, D -> any Z)) -> array<Z>',
    ), (15660,), False),
    'a.reduce': ((
        '(a: array<any A>, fcn: fcn(A, A -> A)) -> A',
    ), (15670,), False),
    'a.reduceRight': ((
        '(a: array<any A>, fcn: fcn(A, A -> A)) -> A',
    ), (15680,), False),
    'a.fold': ((
        '(a: array<any A>, zero: any B, fcn: fcn(B, A -> B)) -> B',
    ), (), False),
    'a.foldRight': ((
        '(a: array<any A>, zero: any B, fcn: fcn(A, B -> B)) -> B',
    ), (), False),
    'a.takeWhile': ((
        '(a: array<any A>, fcn: fcn(A -> boolean)) -> array<A>',
    ), (), False),
    'a.dropWhile': ((
        '(a: array<any A>, fcn: fcn(A -> boolean)) -> array<A>',
    ), (), False),
    'a.any': ((
        '(a: array<any A>, fcn: fcn(A -> boolean)) -> boolean',
    ), (), False),
    'a.all': ((
        '(a: array<any A>, fcn: fcn(A -> boolean)) -> boolean',
    ), (), False),
    'a.corresponds': ((
        '(a: array<any A>, b: array<any B>, fcn: fcn(A, B -> boolean)) -> boolean',
    ), (), False),
    'a.correspondsWithIndex': ((
        '(a: array<any A>, b: array<any B>, fcn: fcn(int, A, B -> boolean)) -> boolean',
    ), (), False),
    'a.slidingWindow': ((
        '(a: array<any A>, size: int, step: int) -> array<array<A>>',
    ), (15770, 15771), False),
    'a.combinations': ((
        '(a: array<any A>, size: int) -> array<array<A>>',
    ), (15780,), False),
    'a.permutations': ((
        '(a: array<any A>) -> array<array<A>>',
    ), (), False),
    'a.flatten': ((
        '(a: array<array<any A>>) -> array<A>',
    ), (), False),
    'a.groupby': ((
        '(a: array<any A>, fcn: fcn(A -> string)) -> map<array<A>>',
    ), (), False),
    'map.len': ((
        '(m: map<any A>) -> int',
    ), (), False),
    'map.keys': ((
        '(m: map<any A>) -> array<string>',
    ), (), True),
    'map.values': ((
        '(m: map<any A>) -> array<A>',
    ), (), True),
    'map.containsKey': ((
        '(m: map<any A>, key: string) -> boolean',
        '(m: map<any A>, fcn: fcn(string -> boolean)) -> boolean',
    ), (), False),
    'map.containsValue': ((
        '(m: map<any A>, value: A) -> boolean',
        '(m: map<any A>, fcn: fcn(A -> boolean)) -> boolean',
    ), (), False),
    'map.add': ((
        '(m: map<any A>, key: string, value: A) -> map<A>',
        '(m: map<any A>, item: A) -> map<A>',
    ), (), False),
    'map.remove': ((
        '(m: map<any A>, key: string) -> map<A>',
    ), (), False),
    'map.only': ((
        '(m: map<any A>, keys: array<string>) -> map<A>',
    ), (), False),
    'map.except': ((
        '(m: map<any A>, keys: array<string>) -> map<A>',
    ), (), False),
    'map.update': ((
        '(base: map<any A>, overlay: map<A>) -> map<A>',
    ), (), False),
    'map.split': ((
        '(m: map<any A>) -> array<map<A>>',
    ), (), True),
    'map.join': ((
        '(a: array<map<any A>>) -> map<A>',
    ), (), False),
    'map.argmax': ((
        '(m: map<any A>) -> string',
    ), (26120,), False),
    'map.argmin': ((
        '(m: map<any A>) -> string',
    ), (26130,), False),
    'map.argmaxLT': ((
        '(m: map<any A>, lessThan: fcn(A, A -> boolean)) -> string',
    ), (26140,), False),
    'map.argminLT': ((
        '(m: map<any A>, lessThan: fcn(A, A -> boolean)) -> string',
    ), (26150,), False),
    'map.argmaxN': ((
        '(m: map<any A>, n: int) -> array<string>',
    ), (26160, 26161), False),
    'map.argminN': ((
        '(m: map<any A>, n: int) -> array<string>',
    ), (26170, 26171), False),
    'map.argmaxNLT': ((
        '(m: map<any A>, n: int, lessThan: fcn(A, A -> boolean)) -> array<string>',
    ), (26180, 26181), False),
    'map.argminNLT': ((
        '(m: map<any A>, n: int, lessThan: fcn(A, A -> boolean)) -> array<string>',
    ), (26190, 26191), False),
    'map.toset': ((
        '(a: array<any A>) -> map<A>',
    ), (), False),
    'map.fromset': ((
        '(s: map<any A>) -> array<A>',
    ), (), True),
    'map.in': ((
        '(s: map<any A>, x: A) -> boolean',
    ), (), False),
    'map.union': ((
        '(a: map<any A>, b: map<A>) -> map<A>',
    ), (), False),
    'map.intersection': ((
        '(a: map<any A>, b: map<A>) -> map<A>',
    ), (), False),
    'map.diff': ((
        '(a: map<any A>, b: map<A>) -> map<A>',
    ), (), False),
    'map.symdiff': ((
        '(a: map<any A>, b: map<A>) -> map<A>',
    ), (), False),
    'map.subset': ((
        '(little: map<any A>, big: map<A>) -> boolean',
    ), (), False),
    'map.disjoint': ((
        '(a: map<any A>, b: map<A>) -> boolean',
    ), (), False),
    'map.map': ((
        '(m: map<any A>, fcn: fcn(A -> any B)) -> map<B>',
    ), (), False),
    'map.mapWithKey': ((
        '(m: map<any A>, fcn: fcn(string, A -> any B)) -> map<B>',
    ), (), False),
    'map.filter': ((
        '(m: map<any A>, fcn: fcn(A -> boolean)) -> map<A>',
    ), (), False),
    'map.filterWithKey': ((
        '(m: map<any A>, fcn: fcn(string, A -> boolean)) -> map<A>',
    ), (), False),
    'map.filterMap': ((
        '(m: map<any A>, fcn: fcn(A -> any B|null)) -> map<B>',
    ), (), False),
    'map.filterMapWithKey': ((
        '(m: map<any A>, fcn: fcn(string, A -> any B|null)) -> map<B>',
    ), (), False),
    'map.flatMap': ((
        '(m: map<any A>, fcn: fcn(A -> map<any B>)) -> map<B>',
    ), (), False),
    'map.flatMapWithKey': ((
        '(m: map<any A>, fcn: fcn(string, A -> map<any B>)) -> map<B>',
    ), (), False),
    'map.zipmap': ((
        '(a: map<any A>, b: map<any B>, fcn: fcn(A, B -> any Z)) -> map<Z>',
        '(a: map<any A>, b: map<any B>, c: map<any C>, fcn: fcn(A, B, C -> any Z)) -> map<Z>',
        '(a: map<any A>, b: map<any B>, c: map<any C>, d: map<any D>, fcn: fcn(A, B, C, D -> any Z)) -> map<Z>',
    ), (26370,), False),
    'map.zipmapWithKey': ((
        '(a: map<any A>, b: map<any B>, fcn: fcn(string, A, B -> any Z)) -> map<Z>',
        '(a: map<any A>, b: map<any B>, c: map<any C>, fcn: fcn(string, A, B, C -> any Z)) -> map<Z>',
        '(a: map<any A>, b: map<any B>, c: map<any C>, d: map<any D>, fcn: fcn(string, A, B, C, D -> any Z)) -> map<Z>',
    ), (26380,), False),
    'map.corresponds': ((
        '(a: map<any A>, b: map<any B>, fcn: fcn(A, B -> boolean)) -> boolean',
    ), (), False),
    'map.correspondsWithKey': ((
        '(a: map<any A>, b: map<any B>, fcn: fcn(string, A, B -> boolean)) -> boolean',
    ), (), False),
    'bytes.len': ((
        '(x: bytes) -> int',
    ), (), False),
    'bytes.subseq': ((
        '(x: bytes, start: int, end: int) -> bytes',
    ), (), False),
    'bytes.subseqto': ((
        '(x: bytes, start: int, end: int, replacement: bytes) -> bytes',
    ), (), False),
    'bytes.isAscii': ((
        '(x: bytes) -> boolean',
        '(x: string) -> boolean',
    ), (), False),
    'bytes.isLatin1': ((
        '(x: bytes) -> boolean',
        '(x: string) -> boolean',
    ), (), False),
    'bytes.isUtf8': ((
        '(x: bytes) -> boolean',
        '(x: string) -> boolean',
    ), (), False),
    'bytes.isUtf16': ((
        '(x: bytes) -> boolean',
        '(x: string) -> boolean',
    ), (), False),
    'bytes.isUtf16be': ((
        '(x: bytes) -> boolean',
        '(x: string) -> boolean',
    ), (), False),
    'bytes.isUtf16le': ((
        '(x: bytes) -> boolean',
        '(x: string) -> boolean',
    ), (), False),
    'bytes.decodeAscii': ((
        '(x: bytes) -> string',
    ), (16090,), False),
    'bytes.decodeLatin1': ((
        '(x: bytes) -> string',
    ), (16100,), False),
    'bytes.decodeUtf8': ((
        '(x: bytes) -> string',
    ), (16110,), False),
    'bytes.decodeUtf16': ((
        '(x: bytes) -> string',
    ), (16120,), False),
    'bytes.decodeUtf16be': ((
        '(x: bytes) -> string',
    ), (16130,), False),
    'bytes.decodeUtf16le': ((
        '(x: bytes) -> string',
    ), (16140,), False),
    'bytes.encodeAscii': ((
        '(s: string) -> bytes',
    ), (16150,), False),
    'bytes.encodeLatin1': ((
        '(s: string) -> bytes',
    ), (16160,), False),
    'bytes.encodeUtf8': ((
        '(s: string) -> bytes',
    ), (16170,), False),
    'bytes.encodeUtf16': ((
        '(s: string) -> bytes',
    ), (16180,), True),
    'bytes.encodeUtf16be': ((
        '(s: string) -> bytes',
    ), (16190,), False),
    'bytes.encodeUtf16le': ((
        '(s: string) -> bytes',
    ), (16200,), False),
    'bytes.toBase64': ((
        '(x: bytes) -> string',
    ), (), False),
    'bytes.fromBase64': ((
        '(s: string) -> bytes',
    ), (16220,), False),
    'fixed.toBytes': ((
        '(x: fixed A) -> bytes',
    ), (), False),
    'fixed.fromBytes': ((
        '(original: fixed A, replacement: bytes) -> A',
    ), (), False),
    'enum.toString': ((
        '(x: enum A) -> string',
    ), (), False),
    'enum.toInt': ((
        '(x: enum A) -> int',
    ), (), False),
    'enum.numSymbols': ((
        '(x: enum A) -> int',
    ), (), False),
    'time.year': ((
        '(ts: double, zone: string) -> int',
    ), (40000, 40001), False),
    'time.monthOfYear': ((
        '(ts: double, zone: string) -> int',
    ), (40010, 40011), False),
    'time.dayOfYear': ((
        '(ts: double, zone: string) -> int',
    ), (40020, 40021), False),
    'time.dayOfMonth': ((
        '(ts: double, zone: string) -> int',
    ), (40030, 40031), False),
    'time.dayOfWeek': ((
        '(ts: double, zone: string) -> int',
    ), (40040, 40041), False),
    'time.hourOfDay': ((
        '(ts: double, zone: string) -> int',
    ), (40050, 40051), False),
    'time.minuteOfHour': ((
        '(ts: double, zone: string) -> int',
    ), (40060, 40061), False),
    'time.secondOfMinute': ((
        '(ts: double, zone: string) -> int',
    ), (40070, 40071), False),
    'time.makeTimestamp': ((
        '(year: int, month: int, day: int, hour: int, minute: int, second: int, millisecond: int, zone: string) -> double',
    ), (40080, 40081), False),
    'time.isSecondOfMinute': ((
        '(ts: double, zone: string, low: double, high: double) -> boolean',
    ), (40090, 40091, 40092), False),
    'time.isMinuteOfHour': ((
        '(ts: double, zone: string, low: double, high: double) -> boolean',
    ), (40100, 40101, 40102), False),
    'time.isHourOfDay': ((
        '(ts: double, zone: string, low: double, high: double) -> boolean',
    ), (40110, 40111, 40112), False),
    'time.isDayOfWeek': ((
        '(ts: double, zone: string, low: double, high: double) -> boolean',
    ), (40120, 40121, 40122), False),
    'time.isDayOfMonth': ((
        '(ts: double, zone: string, low: double, high: double) -> boolean',
    ), (40130, 40131, 40132), False),
    'time.isMonthOfYear': ((
        '(ts: double, zone: string, low: double, high: double) -> boolean',
    ), (40140, 40141, 40142), False),
    'time.isDayOfYear': ((
        '(ts: double, zone: string, low: double, high: double) -> boolean',
    ), (40150, 40151, 40152), False),
    'time.isWeekend': ((
        '(ts: double, zone: string) -> boolean',
    ), (40160, 40161), False),
    'time.isWorkHours': ((
        '(ts: double, zone: string) -> boolean',
    ), (40170, 40171), False),
    'impute.errorOnNull': ((
        '(x: any A|null) -> A',
    ), (21000,), False),
    'impute.defaultOnNull': ((
        '(x: any A|null, default: A) -> A',
    ), (), False),
    'impute.isnan': ((
        '(x: float) -> boolean',
        '(x: double) -> boolean',
    ), (), False),
    'impute.isinf': ((
        '(x: float) -> boolean',
        '(x: double) -> boolean',
    ), (), False),
    'impute.isnum': ((
        '(x: float) -> boolean',
        '(x: double) -> boolean',
    ), (), False),
    'impute.errorOnNonNum': ((
        '(x: float) -> float',
        '(x: double) -> double',
    ), (21050, 21051, 21052), False),
    'impute.defaultOnNonNum': ((
        '(x: float, default: float) -> float',
        '(x: double, default: double) -> double',
    ), (), False),
    'interp.bin': ((
        '(x: double, numbins: int, low: double, high: double) -> int',
        '(x: double, origin: double, width: double) -> int',
    ), (22000, 22001, 22002), False),
    'interp.nearest': ((
        '(x: double, table: array<record R {x: double, to: any T}>) -> T',
        '(x: array<double>, table: array<record R {x: array<double>, to: any T}>) -> T',
        '(x: any X1, table: array<record R {x: any X2, to: any T}>, metric: fcn(X1, X2 -> double)) -> T',
    ), (22010, 22011), False),
    'interp.linear': ((
        '(x: double, table: array<record R {x: double, to: double}>) -> double',
        '(x: double, table: array<record R {x: double, to: array<double>}>) -> array<double>',
    ), (22020, 22021), False),
    'interp.linearFlat': ((
        '(x: double, table: array<record R {x: double, to: double}>) -> double',
        '(x: double, table: array<record R {x: double, to: array<double>}>) -> array<double>',
    ), (22030, 22031), False),
    'interp.linearMissing': ((
        '(x: double, table: array<record R {x: double, to: double}>) -> null|double',
        '(x: double, table: array<record R {x: double, to: array<double>}>) -> null|array<double>',
    ), (22040, 22041), False),
    'prob.dist.gaussianLL': ((
        '(x: double, mu: double, sigma: double) -> double',
        '(x: double, params: record A {mean: double, variance: double}) -> double',
    ), (13000, 13001), False),
    'prob.dist.gaussianCDF': ((
        '(x: double, mu: double, sigma: double) -> double',
        '(x: double, params: record A {mean: double, variance: double}) -> double',
    ), (13010, 13011), False),
    'prob.dist.gaussianQF': ((
        '(p: double, mu: double, sigma: double) -> double',
        '(p: double, params: record A {mean: double, variance: double}) -> double',
    ), (13020, 13021), False),
    'prob.dist.exponentialPDF': ((
        '(x: double, lambda: double) -> double',
    ), (13030, 13031), False),
    'prob.dist.exponentialCDF': ((
        '(x: double, lambda: double) -> double',
    ), (13040, 13041), False),
    'prob.dist.exponentialQF': ((
        '(p: double, lambda: double) -> double',
    ), (13050, 13051), False),
    'prob.dist.chi2PDF': ((
        '(x: double, dof: int) -> double',
    ), (13060, 13061), False),
    'prob.dist.chi2CDF': ((
        '(x: double, dof: int) -> double',
    ), (13070, 13071), False),
    'prob.dist.chi2QF': ((
        '(p: double, dof: int) -> double',
    ), (13080, 13081), False),
    'prob.dist.poissonPDF': ((
        '(x: int, lambda: double) -> double',
    ), (13090,), False),
    'prob.dist.poissonCDF': ((
        '(x: int, lambda: double) -> double',
    ), (13100, 13101), False),
    'prob.dist.poissonQF': ((
        '(p: double, lambda: double) -> double',
    ), (13110, 13111), False),
    'prob.dist.gammaPDF': ((
        '(x: double, shape: double, scale: double) -> double',
    ), (13120, 13121), False),
    'prob.dist.gammaCDF': ((
        '(x: double, shape: double, scale: double) -> double',
    ), (13130, 13131), False),
    'prob.dist.gammaQF': ((
        '(p: double, shape: double, scale: double) -> double',
    ), (13140, 13141), False),
    'prob.dist.betaPDF': ((
        '(x: double, a: double, b: double) -> double',
    ), (13150, 13151), False),
    'prob.dist.betaCDF': ((
        '(x: double, a: double, b: double) -> double',
    ), (13160, 13161), False),
    'prob.dist.betaQF': ((
        '(p: double, a: double, b: double) -> double',
    ), (13170, 13171), False),
    'prob.dist.cauchyPDF': ((
        '(x: double, location: double, scale: double) -> double',
    ), (13180, 13181), False),
    'prob.dist.cauchyCDF': ((
        '(x: double, location: double, scale: double) -> double',
    ), (13190, 13191), False),
    'prob.dist.cauchyQF': ((
        '(p: double, location: double, scale: double) -> double',
    ), (13200, 13201), False),
    'prob.dist.fPDF': ((
        '(x: double, d1: int, d2: int) -> double',
    ), (13210, 13211), False),
    'prob.dist.fCDF': ((
        '(x: double, d1: int, d2: int) -> double',
    ), (13220, 13221), False),
    'prob.dist.fQF': ((
        '(p: double, d1: int, d2: int) -> double',
    ), (13230, 13231), False),
    'prob.dist.lognormalPDF': ((
        '(x: double, meanlog: double, sdlog: double) -> double',
    ), (13240, 13241), False),
    'prob.dist.lognormalCDF': ((
        '(x: double, meanlog: double, sdlog: double) -> double',
    ), (13250, 13251), False),
    'prob.dist.lognormalQF': ((
        '(p: double, meanlog: double, sdlog: double) -> double',
    ), (13260, 13261), False),
    'prob.dist.tPDF': ((
        '(x: double, dof: int) -> double',
    ), (13270, 13271), False),
    'prob.dist.tCDF': ((
        '(x: double, dof: int) -> double',
    ), (13280, 13281), False),
    'prob.dist.tQF': ((
        '(p: double, dof: int) -> double',
    ), (13290, 13291), False),
    'prob.dist.binomialPDF': ((
        '(x: int, size: int, prob: double) -> double',
    ), (13300, 13301), False),
    'prob.dist.binomialCDF': ((
        '(x: double, size: int, prob: double) -> double',
    ), (13310, 13311), False),
    'prob.dist.binomialQF': ((
        '(p: double, size: int, prob: double) -> double',
    ), (13320, 13321), False),
    'prob.dist.uniformPDF': ((
        '(x: double, min: double, max: double) -> double',
    ), (13330, 13331), False),
    'prob.dist.uniformCDF': ((
        '(x: double, min: double, max: double) -> double',
    ), (13340, 13341), False),
    'prob.dist.uniformQF': ((
        '(p: double, min: double, max: double) -> double',
    ), (13350, 13351), False),
    'prob.dist.geometricPDF': ((
        '(x: int, prob: double) -> double',
    ), (13360, 13361), False),
    'prob.dist.geometricCDF': ((
        '(x: double, prob: double) -> double',
    ), (13370, 13371), False),
    'prob.dist.geometricQF': ((
        '(p: double, prob: double) -> double',
    ), (13380, 13381), False),
    'prob.dist.hypergeometricPDF': ((
        '(x: int, m: int, n: int, k: int) -> double',
    ), (13390,), False),
    'prob.dist.hypergeometricCDF': ((
        '(x: int, m: int, n: int, k: int) -> double',
    ), (13400, 13401), False),
    'prob.dist.hypergeometricQF': ((
        '(p: double, m: int, n: int, k: int) -> double',
    ), (13410, 13411), False),
    'prob.dist.weibullPDF': ((
        '(x: double, shape: double, scale: double) -> double',
    ), (13420, 13421), False),
    'prob.dist.weibullCDF': ((
        '(x: double, shape: double, scale: double) -> double',
    ), (13430, 13431), False),
    'prob.dist.weibullQF': ((
        '(p: double, shape: double, scale: double) -> double',
    ), (13440, 13441), False),
    'prob.dist.negativeBinomialPDF': ((
        '(x: int, size: int, prob: double) -> double',
    ), (13450, 13451), False),
    'prob.dist.negativeBinomialCDF': ((
        '(x: double, size: int, prob: double) -> double',
    ), (13460, 13461), False),
    'prob.dist.negativeBinomialQF': ((
        '(p: double, size: int, prob: double) -> double',
    ), (13470, 13471), False),
    'stat.test.kolmogorov': ((
        '(x: array<double>, y: array<double>) -> double',
    ), (), False),
    'stat.test.residual': ((
        '(observation: double, prediciton: double) -> double',
        '(observation: array<double>, prediciton: array<double>) -> array<double>',
        '(observation: map<double>, prediciton: map<double>) -> map<double>',
    ), (38010,), False),
    'stat.test.pull': ((
        '(observation: double, prediciton: double, uncertainty: double) -> double',
        '(observation: array<double>, prediciton: array<double>, uncertainty: array<double>) -> array<double>',
        '(observation: map<double>, prediciton: map<double>, uncertainty: map<double>) -> map<double>',
    ), (38020, 38021), False),
    'stat.test.mahalanobis': ((
        '(observation: array<double>, prediction: array<double>, covariance: array<array<double>>) -> double',
        '(observation: map<double>, prediction: map<double>, covariance: map<map<double>>) -> double',
    ), (38030, 38031, 38032), False),
    'stat.test.updateChi2': ((
        '(pull: double, state: record A {chi2: double, dof: int}) -> A',
        '(pull: array<double>, state: record A {chi2: double, dof: int}) -> A',
        '(pull: map<double>, state: record A {chi2: double, dof: int}) -> A',
    ), (), False),
    'stat.test.reducedChi2': ((
        '(state: record A {chi2: double, dof: int}) -> double',
    ), (), False),
    'stat.test.chi2Prob': ((
        '(state: record A {chi2: double, dof: int}) -> double',
    ), (38060,), False),
    'stat.sample.update': ((
        '(x: double, w: double, state: record A {count: double}) -> A',
    ), (), False),
    'stat.sample.updateCovariance': ((
        '(x: array<double>, w: double, state: record A {count: double, mean: array<double>, covariance: array<array<double>>}) -> A',
        '(x: map<double>, w: double, state: record A {count: map<map<double>>, mean: map<double>, covariance: map<map<double>>}) -> A',
    ), (14011, 14012), False),
    'stat.sample.updateWindow': ((
        '(x: double, w: double, state: array<record A {x: double, w: double, count: double}>, windowSize: int) -> array<A>',
    ), (14020, 14021), False),
    'stat.sample.updateEWMA': ((
        '(x: double, alpha: double, state: record A {mean: double}) -> A',
    ), (14030,), False),
    'stat.sample.updateHoltWinters': ((
        '(x: double, alpha: double, beta: double, state: record A {level: double, trend: double}) -> A',
    ), (14040, 14041), False),
    'stat.sample.updateHoltWintersPeriodic': ((
        '(x: double, alpha: double, beta: double, gamma: double, state: record A {level: double, trend: double, cycle: array<double>, multiplicative: boolean}) -> A',
    ), (14050, 14051, 14052, 14053), False),
    'stat.sample.forecast1HoltWinters': ((
        '(state: record A {level: double, trend: double}) -> double',
    ), (14060,), False),
    'stat.sample.forecastHoltWinters': ((
        '(n: int, state: record A {level: double, trend: double}) -> array<double>',
    ), (14070,), False),
    'stat.sample.fillHistogram': ((
        '(x: double, w: double, histogram: record A {numbins: int, low: double, high: double, values: array<double>}) -> A',
        '(x: double, w: double, histogram: record A {low: double, binsize: double, values: array<double>}) -> A',
        '(x: double, w: double, histogram: record A {ranges: array<array<double>>, values: array<double>}) -> A',
    ), (14080, 14081, 14082, 14083), False),
    'stat.sample.fillHistogram2d': ((
        '(x: double, y: double, w: double, histogram: record A {xnumbins: int, xlow: double, xhigh: double, ynumbins: int, ylow: double, yhigh: double, values: array<array<double>>}) -> A',
    ), (14090, 14091, 14092), False),
    'stat.sample.fillCounter': ((
        '(x: string, w: double, counter: record A {values: map<double>}) -> A',
    ), (), False),
    'stat.sample.topN': ((
        '(x: any A, top: array<A>, n: int, lessThan: fcn(A, A -> boolean)) -> array<A>',
    ), (), False),
    'stat.change.updateTrigger': ((
        '(predicate: boolean, history: record A {numEvents: int, numRuns: int, currentRun: int, longestRun: int}) -> A',
    ), (37000,), False),
    'stat.change.zValue': ((
        '(x: double, meanVariance: record A {mean: double, variance: double}) -> double',
        '(x: double, meanVariance: record A {count: double, mean: double, variance: double}, unbiased: boolean) -> double',
    ), (), False),
    'stat.change.updateCUSUM': ((
        '(logLikelihoodRatio: double, last: double, reset: double) -> double',
    ), (), False),
    'model.reg.linear': ((
        '(datum: array<double>, model: record M {coeff: array<double>, const: double}) -> double',
        '(datum: array<double>, model: record M {coeff: array<array<double>>, const: array<double>}) -> array<double>',
        '(datum: map<double>, model: record M {coeff: map<double>, const: double}) -> double',
        '(datum: map<double>, model: record M {coeff: map<map<double>>, const: map<double>}) -> map<double>',
    ), (31000, 31001), False),
    'model.reg.linearVariance': ((
        '(datum: array<double>, model: record M {covar: array<array<double>>}) -> double',
        '(datum: array<double>, model: record M {covar: array<array<array<double>>>}) -> array<double>',
        '(datum: map<double>, model: record M {covar: map<map<double>>}) -> double',
        '(datum: map<double>, model: record M {covar: map<map<map<double>>>}) -> map<double>',
    ), (31010,), False),
    'model.reg.gaussianProcess': ((
        '(x: double, table: array<record R {x: double, to: double}>, krigingWeight: null|double, kernel: fcn(array<double>, array<double> -> double)) -> double',
        '(x: double, table: array<record R {x: double, to: array<double>}>, krigingWeight: null|double, kernel: fcn(array<double>, array<double> -> double)) -> array<double>',
        '(x: array<double>, table: array<record R {x: array<double>, to: double}>, krigingWeight: null|double, kernel: fcn(array<double>, array<double> -> double)) -> double',
        '(x: array<double>, table: array<record R {x: array<double>, to: array<double>}>, krigingWeight: null|double, kernel: fcn(array<double>, array<double> -> double)) -> array<double>',
    ), (31080, 31081, 31082, 31083, 31084, 31085, 31086, 31087, 31088), True),
    'model.reg.residual': ((
        '(observation: double, prediciton: double) -> double',
        '(observation: array<double>, prediciton: array<double>) -> array<double>',
        '(observation: map<double>, prediciton: map<double>) -> map<double>',
    ), (31020,), False),
    'model.reg.pull': ((
        '(observation: double, prediciton: double, uncertainty: double) -> double',
        '(observation: array<double>, prediciton: array<double>, uncertainty: array<double>) -> array<double>',
        '(observation: map<double>, prediciton: map<double>, uncertainty: map<double>) -> map<double>',
    ), (31030, 31031), False),
    'model.reg.mahalanobis': ((
        '(observation: array<double>, prediction: array<double>, covariance: array<array<double>>) -> double',
        '(observation: map<double>, prediction: map<double>, covariance: map<map<double>>) -> double',
    ), (31040, 31041, 31042), False),
    'model.reg.updateChi2': ((
        '(pull: double, state: record A {chi2: double, DOF: int}) -> A',
        '(pull: array<double>, state: record A {chi2: double, DOF: int}) -> A',
        '(pull: map<double>, state: record A {chi2: double, DOF: int}) -> A',
    ), (), False),
    'model.reg.reducedChi2': ((
        '(state: record A {chi2: double, DOF: int}) -> double',
    ), (), False),
    'model.reg.chi2Prob': ((
        '(state: record A {chi2: double, DOF: int}) -> double',
    ), (31070,), False),
    'model.tree.simpleTest': ((
        '(datum: record D, comparison: record T {field: enum F of D, operator: string, value: any V}) -> boolean',
    ), (32000, 32001), False),
    'model.tree.missingTest': ((
        '(datum: record D, comparison: record T {field: enum F of D, operator: string, value: any V}) -> null|boolean',
    ), (32010, 32011), False),
    'model.tree.compoundTest': ((
        '(datum: record D, operator: string, comparisons: array<record T>, test: fcn(D, T -> boolean)) -> boolean',
    ), (32020,), False),
    'model.tree.surrogateTest': ((
        '(datum: record D, comparisons: array<record T>, missingTest: fcn(D, T -> null|boolean)) -> boolean',
    ), (32030,), False),
    'model.tree.simpleWalk': ((
        '(datum: record D, treeNode: record T {pass: T|any S, fail: T|S}, test: fcn(D, T -> boolean)) -> S',
    ), (), False),
    'model.tree.missingWalk': ((
        '(datum: record D, treeNode: record T {pass: T|any S, fail: T|S, missing: T|S}, test: fcn(D, T -> null|boolean)) -> S',
    ), (), False),
    'model.tree.simpleTree': ((
        '(datum: record D, treeNode: record T {field: enum F of D, operator: string, value: any V, pass: T|any S, fail: T|S}) -> S',
    ), (32060, 32061), False),
    'model.cluster.closest': ((
        '(datum: array<double>, clusters: array<record C {center: array<double>}>) -> C',
        '(datum: any A, clusters: array<record C {center: any B}>, metric: fcn(A, B -> double)) -> C',
    ), (29000,), False),
    'model.cluster.closestN': ((
        '(n: int, datum: array<double>, clusters: array<record C {center: array<double>}>) -> array<C>',
        '(n: int, datum: any A, clusters: array<record C {center: any B}>, metric: fcn(A, B -> double)) -> array<C>',
    ), (29010,), False),
    'model.cluster.randomSeeds': ((
        '(data: array<array<any A>>, k: int, newCluster: fcn(int, array<A> -> record C {center: array<any B>})) -> array<C>',
    ), (29020, 29021, 29022), True),
    'model.cluster.kmeansIteration': ((
        '(data: array<array<any A>>, clusters: array<record C {center: array<any B>}>, metric: fcn(array<A>, array<B> -> double), update: fcn(array<array<A>>, C -> C)) -> array<C>',
    ), (29030, 29031), False),
    'model.cluster.updateMean': ((
        '(data: array<array<double>>, cluster: record C {center: array<double>}, weight: double) -> C',
    ), (29040, 29041), False),
    'model.neighbor.mean': ((
        '(points: array<array<double>>) -> array<double>',
        '(points: array<array<double>>, weight: fcn(array<double> -> double)) -> array<double>',
    ), (30000, 30001), False),
    'model.neighbor.nearestK': ((
        '(k: int, datum: array<double>, codebook: array<array<double>>) -> array<array<double>>',
        '(k: int, datum: any A, codebook: array<any B>, metric: fcn(A, B -> double)) -> array<B>',
    ), (30010, 30011), False),
    'model.neighbor.ballR': ((
        '(r: double, datum: array<double>, codebook: array<array<double>>) -> array<array<double>>',
        '(r: double, datum: any A, codebook: array<any B>, metric: fcn(A, B -> double)) -> array<B>',
    ), (), False),
    'model.naive.gaussian': ((
        '(datum: array<double>, classModel: array<record A {mean: double, variance: double}>) -> double',
        '(datum: map<double>, classModel: map<record A {mean: double, variance: double}>) -> double',
    ), (10000, 10001), False),
    'model.naive.multinomial': ((
        '(datum: array<double>, classModel: array<double>) -> double',
        '(datum: map<double>, classModel: map<double>) -> double',
        '(datum: array<double>, classModel: record C {values: array<double>}) -> double',
        '(datum: map<double>, classModel: record C {values: map<double>}) -> double',
    ), (10010, 10011), False),
    'model.naive.bernoulli': ((
        '(datum: array<string>, classModel: map<double>) -> double',
        '(datum: array<string>, classModel: record C {values: map<double>}) -> double',
    ), (10020,), False),
    'model.neural.simpleLayers': ((
        '(datum: array<double>, model: array<record M {weights: array<array<double>>, bias: array<double>}>, activation: fcn(double -> double)) -> array<double>',
    ), (11000, 11001), False),
    'model.svm.score': ((
        '(datum: array<double>, model: record L {const: double, posClass: array<record M {supVec: array<double>, coeff: double}>, negClass: array<record N {supVec: array<double>, coeff: double}>}, kernel: fcn(array<double>, array<double> -> double)) -> double',
    ), (12000, 12001), False),
}
