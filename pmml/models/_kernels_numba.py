"""numba kernels for the dense numeric models (neural networks, naive Bayes, distance measures,
support vector machines). Imported only when numba is enabled (see ``compute_backend.numba_enabled``);
each kernel has a numpy twin in its model module that gives the same numbers bit for bit.

Exactness rules kept here: plain loops in the order the numpy code adds (no fastmath, so no
reassociation or fused multiply-adds), and no transcendental functions (numpy's exp/log/pow may
differ from libm's in the last bit; those stay in numpy). sqrt is correctly rounded everywhere.
The one exception is the RBF support vector machines' fast path (``rbf_exponents``,
``rbf_sums``): its rounding is bounded instead, and every decision the bound cannot settle is
made on the exact path (``svm_rbf``).

Kernels marked nogil run blocks of rows on several threads at once (``kernels.run_blocks``).
"""
from __future__ import annotations

import math

import numpy as np
from llvmlite import ir
from numba import njit, prange
from numba.core import cgutils, types
from numba.extending import intrinsic

from portmodel.numba_cache import configure

# ================================================================= neural network


# activation codes: what the kernel applies itself (exact arithmetic); ACT_NONE leaves the
# weighted sum for numpy to transform (transcendental functions)
ACT_NONE, ACT_IDENTITY, ACT_RECTIFIER, ACT_LEAKY, ACT_THRESHOLD = 0, 1, 2, 3, 4
ACT_SQUARE, ACT_RECIPROCAL, ACT_ELLIOTT = 5, 6, 7
_ROWS = 4          # rows computed together: each weight is loaded once for all of them


configure(__file__)   # (where numba caches these kernels: see portmodel.numba_cache)


@njit(cache=True, error_model="numpy")
def _activation(z, act, param):
    """The numpy twin's activation of z (``neural_network.activate``), bit for bit."""
    if act == ACT_RECTIFIER:            # np.maximum(z, 0.0): +0.0 for -0.0; NaN stays
        if z != z:
            return np.nan
        return z if z > 0.0 else 0.0
    if act == ACT_LEAKY:                # np.where(z > 0, z, z * leakage)
        return z if z > 0.0 else z * param
    if act == ACT_THRESHOLD:
        if z != z:
            return np.nan
        return 1.0 if z > param else 0.0
    if act == ACT_SQUARE:
        return z * z
    if act == ACT_RECIPROCAL:
        return 1.0 / z
    if act == ACT_ELLIOTT:
        return z / (1.0 + abs(z))
    return z


_LAYER_CHUNK = 64   # groups of _ROWS rows per parallel task


@njit(cache=True, error_model="numpy", parallel=True)
def layer_forward(acts, src, dense, conn, weights, bias, act, param, start):
    """acts[i, start + j] = act(z_ij), z_ij = ((0 + x_i[s0] w[s0, j]) + x_i[s1] w[s1, j] + ...)
    + bias[j] over the connected inputs s of neuron j in ``src`` order, x_i = acts[i, src]:
    the numpy twin's rank-1 updates, _ROWS rows at a time. Rows are independent, so chunks of
    rows run on every core (each row's sums are the same operations in the same order)."""
    n = acts.shape[0]
    k = weights.shape[1]
    S = src.shape[0]
    groups = (n + _ROWS - 1) // _ROWS
    chunks = (groups + _LAYER_CHUNK - 1) // _LAYER_CHUNK
    for ch in prange(chunks):
        z = np.empty((_ROWS, k))
        g_hi = min(groups, (ch + 1) * _LAYER_CHUNK)
        for g in range(ch * _LAYER_CHUNK, g_hi):
            i0 = g * _ROWS
            rows = min(_ROWS, n - i0)
            z[:] = 0.0
            if rows == _ROWS:
                for s in range(S):
                    ws = weights[s]
                    c = src[s]
                    x0 = acts[i0, c]
                    x1 = acts[i0 + 1, c]
                    x2 = acts[i0 + 2, c]
                    x3 = acts[i0 + 3, c]
                    if dense[s]:
                        for j in range(k):
                            w = ws[j]
                            z[0, j] += x0 * w
                            z[1, j] += x1 * w
                            z[2, j] += x2 * w
                            z[3, j] += x3 * w
                    else:
                        cs = conn[s]
                        for j in range(k):
                            if cs[j]:
                                w = ws[j]
                                z[0, j] += x0 * w
                                z[1, j] += x1 * w
                                z[2, j] += x2 * w
                                z[3, j] += x3 * w
            else:
                for r in range(rows):
                    for s in range(S):
                        ws = weights[s]
                        cs = conn[s]
                        x = acts[i0 + r, src[s]]
                        for j in range(k):
                            if cs[j]:
                                z[r, j] += x * ws[j]
            for r in range(rows):
                out = acts[i0 + r]
                for j in range(k):
                    out[start + j] = _activation(z[r, j] + bias[j], act, param)


# ---------------------------------------------------------------- 8-lane sums
# numba's vectorizer keeps to 256-bit registers on CPUs that prefer them (every AVX-512 Xeon), and
# it can only be told otherwise for the whole process. The layer sums below are written as
# explicit 8-double vectors instead: LLVM issues them as 512-bit instructions where the CPU has
# them and as pairs of 256-bit (or 128-bit) ones elsewhere. Each lane gets exactly the scalar
# loop's operations: a multiply, then an add, in the same order (no fast-math flags, so no fused
# multiply-adds), so the sums stay the numpy twin's bit for bit. A group of neurons that read the
# same inputs keeps its sums in registers over all of its inputs (each input's 8 rows loaded once
# for the group, nothing written until the group's values are done: 1.6x the former four
# neurons x four inputs passes through a scratch on a 20-input layer's tile), and a neuron whose
# activation the sums can apply (none, identity, rectifier) gets its value straight into the
# block.

_LANES = 8
_VEC = ir.VectorType(ir.DoubleType(), _LANES)
_I32 = ir.IntType(32)
_I64 = ir.IntType(64)


def _splat(builder, x):
    """x in every lane of a vector."""
    v = builder.insert_element(ir.Constant(_VEC, ir.Undefined), x, ir.Constant(_I32, 0))
    return builder.shuffle_vector(v, ir.Constant(_VEC, ir.Undefined),
                                  ir.Constant(ir.VectorType(_I32, _LANES), [0] * _LANES))


def _group_sums(size: int):
    """An intrinsic ``(z, a, flat, pos, w, wp, count, m, fuse, j, b0, bias, code)`` for a group
    of ``size`` neurons j.. that read the same ``count`` inputs: for rows b < m of a tile,
    s_t[b] = ((0 + x_0[b] w[wp + t]) + x_1[b] w[wp + size + t]) + ... (input q's weight for neuron
    j + t at w[wp + q * size + t]), input q's rows at pos[q] (``_row_position``: flat[p:] for
    p >= 0, else a's values from element -p - 1 on; a is C-ordered). fuse (code ACT_NONE,
    ACT_IDENTITY or ACT_RECTIFIER): a[j + t, b0 + b] = act(s_t[b] + bias[j + t]); else z[t, b]
    = s_t[b], for ``_finish_neuron``. _LANES // size vectors of _LANES rows per step (the sums
    held in registers over the inputs), then a vector at a time, then one row at a time. No
    array views are made (each would count a reference)."""

    @intrinsic
    def sums(typingctx, z, a, flat, pos, w, wp, count, m, fuse, j, b0, bias, code):
        sig = types.void(z, a, flat, pos, w, wp, count, m, fuse, j, b0, bias, code)

        def codegen(context, builder, signature, args):
            (z_v, a_v, flat_v, pos_v, w_v, wp_v, count_v, m_v, fuse_v, j_v, b0_v, bias_v,
             code_v) = args
            z_arr = context.make_array(signature.args[0])(context, builder, z_v)
            a_arr = context.make_array(signature.args[1])(context, builder, a_v)
            a_data = a_arr.data
            flat_data = context.make_array(signature.args[2])(context, builder, flat_v).data
            pos_data = context.make_array(signature.args[3])(context, builder, pos_v).data
            w_data = context.make_array(signature.args[4])(context, builder, w_v).data
            bias_data = context.make_array(signature.args[11])(context, builder, bias_v).data
            zero = ir.Constant(_I64, 0)
            one = ir.Constant(_I64, 1)
            z_width = builder.extract_value(z_arr.shape, 1)
            a_width = builder.extract_value(a_arr.shape, 1)
            zrows = [builder.gep(z_arr.data, [builder.mul(z_width, ir.Constant(_I64, t))])
                     for t in range(size)]
            arows = [builder.gep(a_data, [builder.add(builder.mul(
                builder.add(j_v, ir.Constant(_I64, t)), a_width), b0_v)]) for t in range(size)]
            biases = [builder.load(builder.gep(bias_data, [
                builder.add(j_v, ir.Constant(_I64, t))])) for t in range(size)]
            is_fuse = builder.icmp_signed("!=", fuse_v, ir.Constant(fuse_v.type, 0))
            relu = builder.icmp_signed("==", code_v, ir.Constant(code_v.type, ACT_RECTIFIER))
            has_inputs = builder.icmp_signed(">", count_v, zero)
            vzero = ir.Constant(_VEC, [0.0] * _LANES)
            szero = ir.Constant(ir.DoubleType(), 0.0)
            bias_splats = [_splat(builder, b) for b in biases]

            def input_row(q):
                # where input q's rows start: in flat (pos >= 0) or in the block a
                p = builder.load(builder.gep(pos_data, [q]))
                from_a = builder.gep(a_data, [builder.sub(builder.neg(p), one)])
                return builder.select(builder.icmp_signed(">=", p, zero),
                                      builder.gep(flat_data, [p]), from_a)

            def group_step(offs, load, store, zero_v, splat, bs):
                # the group's sums over every input for the rows at each of offs, then their values
                entry = builder.block
                loop = builder.append_basic_block("inputs")
                done = builder.append_basic_block("inputs_done")
                builder.cbranch(has_inputs, loop, done)
                builder.position_at_end(loop)
                q = builder.phi(_I64)
                q.add_incoming(zero, entry)
                accs = []
                for _ in range(size * len(offs)):
                    acc = builder.phi(zero_v.type)
                    acc.add_incoming(zero_v, entry)
                    accs.append(acc)
                row = input_row(q)
                xs = [load(row, off) for off in offs]
                wq = builder.add(wp_v, builder.mul(q, ir.Constant(_I64, size)))
                ws = [splat(builder.load(builder.gep(w_data, [
                    builder.add(wq, ir.Constant(_I64, t))]))) for t in range(size)]
                new = [builder.fadd(accs[r * size + t], builder.fmul(xs[r], ws[t]))
                       for r in range(len(offs)) for t in range(size)]
                q_next = builder.add(q, one)
                tail = builder.block
                q.add_incoming(q_next, tail)
                for i in range(len(new)):
                    accs[i].add_incoming(new[i], tail)
                builder.cbranch(builder.icmp_signed("<", q_next, count_v), loop, done)
                builder.position_at_end(done)
                final = []
                for i in range(len(new)):
                    v = builder.phi(zero_v.type)
                    v.add_incoming(zero_v, entry)
                    v.add_incoming(new[i], tail)
                    final.append(v)
                with builder.if_else(is_fuse) as (then, otherwise):
                    with then:
                        for r, off in enumerate(offs):
                            for t in range(size):
                                v = builder.fadd(final[r * size + t], bs[t])
                                # np.maximum(v, 0.0): v above 0, NaN stays NaN, else +0.0
                                keep = builder.or_(builder.fcmp_ordered(">", v, zero_v),
                                                   builder.fcmp_unordered("uno", v, v))
                                v = builder.select(relu, builder.select(keep, v, zero_v), v)
                                store(v, arows[t], off)
                    with otherwise:
                        for r, off in enumerate(offs):
                            for t in range(size):
                                store(final[r * size + t], zrows[t], off)

            def vload(base, off):
                return builder.load(builder.bitcast(builder.gep(base, [off]),
                                                    _VEC.as_pointer()), align=8)

            def vstore(v, base, off):
                builder.store(v, builder.bitcast(builder.gep(base, [off]), _VEC.as_pointer()),
                              align=8)

            # _LANES // size vectors of rows per step: 8 sums in flight for every group size
            lanes = ir.Constant(_I64, _LANES)
            per = _LANES // size
            span = ir.Constant(_I64, per * _LANES)
            wide = builder.sdiv(m_v, span)
            vsplat = lambda x: _splat(builder, x)    # noqa: E731
            with cgutils.for_range(builder, wide) as loop:
                o = builder.mul(loop.index, span)
                group_step([builder.add(o, ir.Constant(_I64, r * _LANES)) for r in range(per)],
                           vload, vstore, vzero, vsplat, bias_splats)
            start = builder.mul(wide, span)
            vectors = builder.sdiv(builder.sub(m_v, start), lanes)
            with cgutils.for_range(builder, vectors) as loop:
                group_step([builder.add(start, builder.mul(loop.index, lanes))], vload, vstore,
                           vzero, vsplat, bias_splats)
            done = builder.add(start, builder.mul(vectors, lanes))
            with cgutils.for_range(builder, builder.sub(m_v, done)) as loop:
                group_step([builder.add(done, loop.index)],
                           lambda base, off: builder.load(builder.gep(base, [off])),
                           lambda v, base, off: builder.store(v, builder.gep(base, [off])),
                           szero, lambda x: x, biases)
            return context.get_dummy_value()

        return sig, codegen

    return sums


#: group sizes of network_forward (neurons that read the same inputs, summed together)
GROUP_SIZES = (8, 4, 2, 1)
_sums_8 = _group_sums(8)
_sums_4 = _group_sums(4)
_sums_2 = _group_sums(2)
_sums_1 = _group_sums(1)


#: rows per pass in network_forward: a tile of a layer's inputs stays in the level-1 cache while
#: every group of neurons reads it (with the group sums, 64 to 1,024 rows within 4% of each other
#: on the 20-32-16 benchmark network)
_NET_TILE = 128


@njit(cache=True, error_model="numpy", inline="always")
def _row_position(a, off, start, i, b0):
    """Where rows b0.. of neuron i start, for the ``_group_sums``: an input neuron read in place
    (start >= 0: input f's column is flat[off[f] + start:], ``column_block``) at its position
    p >= 0 in flat; any other at -1 - (its position in the C-ordered block a)."""
    if start >= 0 and i < off.shape[0]:
        return off[i] + start + b0
    return -1 - (i * a.shape[1] + b0)


@njit(cache=True, error_model="numpy")
def _finish_neuron(z, out, m, bj, act, param):
    """out[b] = act(z[b] + bj) (ACT_NONE: z[b] + bj, for numpy to transform), one loop per
    function so that each vectorizes."""
    if act == ACT_NONE or act == ACT_IDENTITY:
        for b in range(m):
            out[b] = z[b] + bj
    elif act == ACT_RECTIFIER:
        for b in range(m):
            v = z[b] + bj
            out[b] = v if v > 0.0 else (np.nan if v != v else 0.0)
    else:
        for b in range(m):
            out[b] = _activation(z[b] + bj, act, param)


@njit(cache=True, error_model="numpy", nogil=True)
def network_inputs(flat, off, lo, a, miss, nan_missing):
    """Rows lo.. of the input columns (column f at flat[off[f] + lo:], ``column_block``) into
    the first rows of the neuron-major block a (neurons x rows). nan_missing: a NaN input
    makes its row missing (miss, which may hold rows known missing already). A missing row's
    inputs become 0 (no NaN in the arithmetic). Returns whether any row of the block is
    missing."""
    m = a.shape[1]
    n_in = off.shape[0]
    for f in range(n_in):
        o = off[f] + lo
        src = flat[o:o + m]
        dst = a[f]
        for b in range(m):
            dst[b] = src[b]
    if nan_missing:
        for f in range(n_in):
            dst = a[f]
            for b in range(m):
                miss[b] |= dst[b] != dst[b]
    found = False
    for b in range(m):
        found |= miss[b]
    if found:
        for f in range(n_in):
            dst = a[f]
            for b in range(m):
                if miss[b]:
                    dst[b] = 0.0
    return found


@njit(cache=True, error_model="numpy")
def _tile_inputs(flat, off, lo, a, miss, nan_missing, b0, b1):
    """The inputs of rows b0..b1 of the block (column f at flat[off[f] + lo:]): nan_missing
    marks the rows with a NaN input missing in miss (which may hold rows known missing
    already). Returns True when no row of the tile is missing: the tile reads its inputs in
    place. Else copies the tile's inputs into a, a missing row's as 0 (no NaN in the
    arithmetic), and returns False."""
    n_in = off.shape[0]
    nan = False
    if nan_missing:
        for f in range(n_in):                # (a vector scan first: NaN is rare)
            nan |= _has_nan(flat, off[f] + lo + b0, b1 - b0)
    if nan:
        mm = miss[b0:b1]
        for f in range(n_in):
            o = off[f] + lo
            src = flat[o + b0:o + b1]
            for b in range(b1 - b0):
                mm[b] |= src[b] != src[b]
    if not _any_true(miss, b0, b1):
        return True
    for f in range(n_in):
        o = off[f] + lo
        dst = a[f]
        for b in range(b0, b1):
            dst[b] = 0.0 if miss[b] else flat[o + b]
    return False


@njit(cache=True, error_model="numpy")
def _any_true(x, b0, b1):
    found = False
    for b in range(b0, b1):
        found |= x[b]
    return found


#: how network_forward finds the inputs: copied into the block already (network_inputs); read
#: in place tile by tile, this call marking the missing rows (the block's first call); read in
#: place where the tile has no missing row (later calls)
INPUTS_IN_BLOCK, INPUTS_FIRST, INPUTS_LATER = 0, 1, 2


@njit(cache=True, error_model="numpy", nogil=True)
def network_forward(a, flat, off, lo, miss, nan_missing, inputs, l0, l1, bounds, act, param,
                    ptr, idx, w, bias, group):
    """Layers l0..l1 - 1 of a network over the neuron-major block a (neurons x rows: every
    neuron's values over the rows contiguous, so the rows fill the vector lanes). Layer l is
    neurons bounds[l]..bounds[l + 1] - 1 with activation code act[l] (parameter param[l]);
    neuron j reads neurons idx[ptr[j]:ptr[j + 1]] and has bias bias[j]: a[j, i] = act(z_ij +
    bias[j]), z_ij = ((0 + x_0 w_0) + x_1 w_1) + ... in connection order, exactly
    ``layer_forward_t``'s (and the numpy twin's) operations. group[j] (at a group's first
    neuron): the number of neurons j.. that read the same inputs, one of GROUP_SIZES (their
    sums computed together, ``_group_sums``); the group's weights are w[ptr[j]:ptr[j + size]],
    input-major (input q's weight for neuron j + t at w[ptr[j] + q * size + t]). Tiles of
    _NET_TILE rows go through every layer in turn while in cache. A neuron whose activation the
    sums apply (none, identity, rectifier) gets its value straight into a; the others from
    _finish_neuron.

    The inputs (neurons 0..len(off) - 1) are rows lo.. of the columns in flat (``column_block``)
    and, per ``inputs``: already in a (INPUTS_IN_BLOCK); read in place, each tile first
    marking its rows with a NaN input missing in miss (nan_missing) and copying into a only
    when one of its rows is missing (INPUTS_FIRST, ``_tile_inputs``); read in place where the
    tile has no missing row, else from a (INPUTS_LATER: a later call on the same block)."""
    m = a.shape[1]
    z = np.empty((8, _NET_TILE + 8))     # (sums of the neurons _finish_neuron finishes)
    most = 1
    for j in range(bounds[l0], bounds[l1]):
        most = max(most, ptr[j + 1] - ptr[j])
    pos = np.empty(most, np.int64)
    for b0 in range(0, m, _NET_TILE):
        b1 = min(m, b0 + _NET_TILE)
        if inputs == INPUTS_FIRST:
            start = lo if _tile_inputs(flat, off, lo, a, miss, nan_missing, b0, b1) else -1
        elif inputs == INPUTS_LATER:
            start = -1 if _any_true(miss, b0, b1) else lo
        else:
            start = -1
        for lay in range(l0, l1):
            j = bounds[lay]
            end = bounds[lay + 1]
            code = act[lay]
            prm = param[lay]
            fuse = code <= ACT_RECTIFIER
            while j < end:
                p = ptr[j]
                count = ptr[j + 1] - p
                for q in range(count):
                    pos[q] = _row_position(a, off, start, idx[p + q], b0)
                size = group[j]
                if size == 8:
                    _sums_8(z, a, flat, pos, w, p, count, b1 - b0, fuse, j, b0, bias, code)
                elif size == 4:
                    _sums_4(z, a, flat, pos, w, p, count, b1 - b0, fuse, j, b0, bias, code)
                elif size == 2:
                    _sums_2(z, a, flat, pos, w, p, count, b1 - b0, fuse, j, b0, bias, code)
                else:
                    size = 1
                    _sums_1(z, a, flat, pos, w, p, count, b1 - b0, fuse, j, b0, bias, code)
                if not fuse:
                    for t in range(size):
                        _finish_neuron(z[t], a[j + t, b0:b1], b1 - b0, bias[j + t], code, prm)
                j += size


# ================================================================= naive Bayes


@njit(cache=True, error_model="numpy")
def gauss_exponents(flat, off, lo, feat, mean, sd, c, cut, out):
    """out[p, i] = -0.5 z z - c[p], z = (x - mean[p]) / sd[p], x = row lo + i of continuous
    input feat[p] (at flat[off[feat[p]] + lo + i], see ``kernels.column_block``). Returns how
    many are below cut (``naive_bayes.small_densities`` redoes those)."""
    r = out.shape[1]
    below = 0
    for p in range(feat.shape[0]):
        start = off[feat[p]] + lo
        x = flat[start:start + r]
        o = out[p]
        a = mean[p]
        s = sd[p]
        cc = c[p]
        for i in range(r):          # two loops: each vectorizes
            o[i] = (x[i] - a) / s
        for i in range(r):
            z = o[i]
            v = -0.5 * z * z - cc
            o[i] = v
            below += v < cut
    return below


@njit(cache=True, error_model="numpy")
def add_terms(terms, rows, cls, logp):
    """logp[cls[t], i] += terms[rows[t], i], t in order: each class's terms in document order
    (logp is class-major)."""
    for t in range(rows.shape[0]):
        src = terms[rows[t]]
        dst = logp[cls[t]]
        for i in range(dst.shape[0]):
            dst[i] += src[i]


# ================================================================= distance measures
# Rows: column f of row i is flat[off[f] + i] (``kernels.column_block``); P[f, i]: present
# (only read when has_missing). References: Y (fields x references). mode: 0 sum of |x - y|
# (cityBlock), 1 sum of (x - y)^2 (euclidean, squaredEuclidean), 2 max of |x - y|
# (chebychev); root: the square root at the end (euclidean). ``comparison.distances`` is the
# numpy twin: the same operations in the same order.


@njit(cache=True, error_model="numpy")
def _finish(i, root, adj, undef, acc):
    """The end of a row's distances (``_row_distances``, ``_pair_sums``): the missing-value
    adjustment, the root, undefined rows."""
    if undef[i]:
        for j in range(acc.shape[0]):
            acc[j] = np.nan
    elif root:
        a = adj[i]
        for j in range(acc.shape[0]):
            acc[j] = math.sqrt(acc[j] * a)
    else:
        a = adj[i]
        for j in range(acc.shape[0]):
            acc[j] = acc[j] * a


@njit(cache=True, error_model="numpy")
def _row_distances(flat, off, P, has_missing, i, Y, w, mode, root, adj, undef, acc):
    """acc[j] = distance of row i to reference j."""
    m = Y.shape[1]
    for j in range(m):
        acc[j] = 0.0
    for f in range(off.shape[0]):
        if has_missing and not P[f, i]:
            continue                         # numpy adds 0.0: no change (acc is never -0.0)
        x = flat[off[f] + i]
        wf = w[f]
        yf = Y[f]
        if mode == 1:
            for j in range(m):
                d = x - yf[j]                # (x - y)^2 = |x - y|^2 exactly
                acc[j] += d * d * wf
        elif mode == 0:
            for j in range(m):
                acc[j] += abs(x - yf[j]) * wf
        else:
            for j in range(m):
                d = abs(x - yf[j]) * wf
                a = acc[j]
                if a == a and (d > a or d != d):      # np.maximum: NaN wins
                    acc[j] = d
    _finish(i, root, adj, undef, acc)


# Few references: the rows go in the inner loop (long vector loops over a block of rows), one
# kernel per mode so that a model compiles only the one it uses. acc is a scratch block the
# compiler knows aliases nothing; acc[j, b] ends as the distance of row lo + b to reference j.


@njit(cache=True, error_model="numpy")
def _block_start(acc, B):
    for j in range(acc.shape[0]):
        for b in range(B):
            acc[j, b] = 0.0


@njit(cache=True, error_model="numpy")
def _block_finish(acc, lo, hi, root, adj, undef):
    for j in range(acc.shape[0]):
        a = acc[j]
        for b in range(hi - lo):
            i = lo + b
            if undef[i]:
                a[b] = np.nan
            elif root:
                a[b] = math.sqrt(a[b] * adj[i])
            else:
                a[b] = a[b] * adj[i]


def _field_sums(builder, n_fields, count: int, terms):
    """Emit a loop over the fields f < n_fields (an i64) that adds terms(f), a list of count
    vectors, to count sums from 0.0: sum k = ((0 + t_k(0)) + t_k(1)) + ..., in field order;
    returns the finished sums (zero vectors when there is no field)."""
    zero = ir.Constant(_I64, 0)
    vzero = ir.Constant(_VEC, [0.0] * _LANES)
    entry = builder.block
    loop = builder.append_basic_block("fields")
    done = builder.append_basic_block("fields_done")
    builder.cbranch(builder.icmp_signed(">", n_fields, zero), loop, done)
    builder.position_at_end(loop)
    f = builder.phi(_I64)
    f.add_incoming(zero, entry)
    sums = []
    for _ in range(count):
        acc = builder.phi(_VEC)
        acc.add_incoming(vzero, entry)
        sums.append(acc)
    new = [builder.fadd(acc, t) for acc, t in zip(sums, terms(f))]
    f_next = builder.add(f, ir.Constant(_I64, 1))
    tail = builder.block
    f.add_incoming(f_next, tail)
    for acc, v in zip(sums, new):
        acc.add_incoming(v, tail)
    builder.cbranch(builder.icmp_signed("<", f_next, n_fields), loop, done)
    builder.position_at_end(done)
    final = []
    for v in new:
        out = builder.phi(_VEC)
        out.add_incoming(vzero, entry)
        out.add_incoming(v, tail)
        final.append(out)
    return final


def _square_term(builder, x, y, wf):
    """(x - y)^2, times wf unless wf is None: a distance sum's term."""
    d = builder.fsub(x, y)
    sq = builder.fmul(d, d)
    return sq if wf is None else builder.fmul(sq, wf)


def _reference_square_sums(size: int, weighted: bool):
    """An intrinsic ``(acc, flat, off, i0, b, Y, w, j0)``: acc[j0 + t, b:b + _LANES] = ((0 +
    t_0) + t_1) + ... for the ``size`` references j0 + t and the _LANES rows i0.., t_f =
    (x - Y[f, j0 + t])^2 (times w[f] when weighted), x = flat[off[f] + i0 + lane]:
    ``_block_squares``'s operations in its order. The references' sums stay in vector
    registers over every field, each field's rows loaded once for them (acc, Y C-ordered)."""

    @intrinsic
    def sums(typingctx, acc, flat, off, i0, b, Y, w, j0):
        if acc.layout != "C" or Y.layout != "C":
            return None                      # (element (a, c) at a * width + c only)
        sig = types.void(acc, flat, off, i0, b, Y, w, j0)

        def codegen(context, builder, signature, args):
            acc_v, flat_v, off_v, i0_v, b_v, y_v, w_v, j0_v = args
            acc_arr = context.make_array(signature.args[0])(context, builder, acc_v)
            flat_data = context.make_array(signature.args[1])(context, builder, flat_v).data
            off_arr = context.make_array(signature.args[2])(context, builder, off_v)
            y_arr = context.make_array(signature.args[5])(context, builder, y_v)
            w_data = context.make_array(signature.args[6])(context, builder, w_v).data
            m = builder.extract_value(y_arr.shape, 1)
            width = builder.extract_value(acc_arr.shape, 1)

            def terms(f):
                start = builder.add(builder.load(builder.gep(off_arr.data, [f])), i0_v)
                x = builder.load(builder.bitcast(builder.gep(flat_data, [start]),
                                                 _VEC.as_pointer()), align=8)
                row = builder.add(builder.mul(f, m), j0_v)
                wf = _splat(builder, builder.load(builder.gep(w_data, [f]))) if weighted \
                    else None
                return [_square_term(builder, x, _splat(builder, builder.load(builder.gep(
                    y_arr.data, [builder.add(row, ir.Constant(_I64, t))]))), wf)
                    for t in range(size)]

            final = _field_sums(builder, builder.extract_value(off_arr.shape, 0), size, terms)
            for t, v in enumerate(final):
                dst = builder.gep(acc_arr.data, [builder.add(builder.mul(
                    builder.add(j0_v, ir.Constant(_I64, t)), width), b_v)])
                builder.store(v, builder.bitcast(dst, _VEC.as_pointer()), align=8)
            return context.get_dummy_value()

        return sig, codegen

    return sums


_ref_sums_8 = _reference_square_sums(8, False)
_ref_sums_4 = _reference_square_sums(4, False)
_ref_sums_1 = _reference_square_sums(1, False)
_ref_sums_8w = _reference_square_sums(8, True)
_ref_sums_4w = _reference_square_sums(4, True)
_ref_sums_1w = _reference_square_sums(1, True)


@njit(cache=True, error_model="numpy")
def _vector_squares(flat, off, lo, B, Y, w, unit, acc, col):
    """acc[j, col + b] = the sum over fields f, in order, of (x - Y[f, j])^2 (times w[f] unless
    unit), x = row lo + b, for the rows b < B - B % _LANES: references in groups of 8, 4 and 1
    (``_reference_square_sums``). Returns where the rows it did not do start."""
    m = Y.shape[1]
    end = B - B % _LANES
    for b in range(0, end, _LANES):
        j = 0
        while j < m:
            size = 8 if m - j >= 8 else (4 if m - j >= 4 else 1)
            args = (acc, flat, off, lo + b, col + b, Y, w, j)
            if size == 8 and unit:
                _ref_sums_8(*args)
            elif size == 8:
                _ref_sums_8w(*args)
            elif size == 4 and unit:
                _ref_sums_4(*args)
            elif size == 4:
                _ref_sums_4w(*args)
            elif unit:
                _ref_sums_1(*args)
            else:
                _ref_sums_1w(*args)
            j += size
    return end


@njit(cache=True, error_model="numpy")
def _block_squares(flat, off, P, has_missing, lo, hi, Y, w, root, adj, undef, acc):
    """Mode 1: sums of w (x - y)^2 (with nothing missing, vectors of rows from
    ``_vector_squares``: w of 1.0 not multiplied, which changes nothing)."""
    B = hi - lo
    first = 0
    if not has_missing and off.shape[0] > 0:
        unit = True
        for f in range(w.shape[0]):
            unit &= w[f] == 1.0
        first = _vector_squares(flat, off, lo, B, Y, w, unit, acc, 0)
    for j in range(acc.shape[0]):
        for b in range(first, B):
            acc[j, b] = 0.0
    for f in range(off.shape[0]):
        x = flat[off[f] + lo:off[f] + hi]
        wf = w[f]
        p = P[f, lo:hi] if has_missing else P[f, 0:0]
        for j in range(Y.shape[1]):
            y = Y[f, j]
            a = acc[j]
            if has_missing:
                for b in range(B):
                    d = x[b] - y
                    a[b] += d * d * wf if p[b] else 0.0   # + 0.0 changes nothing
            else:
                for b in range(first, B):
                    d = x[b] - y
                    a[b] += d * d * wf
    _block_finish(acc, lo, hi, root, adj, undef)


@njit(cache=True, error_model="numpy")
def _block_absolute(flat, off, P, has_missing, lo, hi, Y, w, root, adj, undef, acc):
    """Mode 0: sums of w |x - y|."""
    B = hi - lo
    _block_start(acc, B)
    for f in range(off.shape[0]):
        x = flat[off[f] + lo:off[f] + hi]
        wf = w[f]
        p = P[f, lo:hi] if has_missing else P[f, 0:0]
        for j in range(Y.shape[1]):
            y = Y[f, j]
            a = acc[j]
            if has_missing:
                for b in range(B):
                    a[b] += abs(x[b] - y) * wf if p[b] else 0.0
            else:
                for b in range(B):
                    a[b] += abs(x[b] - y) * wf
    _block_finish(acc, lo, hi, root, adj, undef)


@njit(cache=True, error_model="numpy")
def _block_maximum(flat, off, P, has_missing, lo, hi, Y, w, root, adj, undef, acc):
    """Mode 2: maxima of w |x - y| (np.maximum: NaN wins)."""
    B = hi - lo
    _block_start(acc, B)
    for f in range(off.shape[0]):
        x = flat[off[f] + lo:off[f] + hi]
        wf = w[f]
        for j in range(Y.shape[1]):
            y = Y[f, j]
            a = acc[j]
            for b in range(B):
                if has_missing and not P[f, lo + b]:
                    continue
                d = abs(x[b] - y) * wf
                v = a[b]
                if v == v and (d > v or d != d):
                    a[b] = d
    _block_finish(acc, lo, hi, root, adj, undef)


_BLOCK = 256
#: up to this many references, distance matrices are computed reference-major
FEW_REFERENCES = 32


@njit(cache=True, error_model="numpy")
def _store(acc, out, lo, hi):
    for j in range(acc.shape[0]):
        out[j, lo:hi] = acc[j, :hi - lo]


@njit(cache=True, error_model="numpy")
def distance_columns_absolute(flat, off, n, P, has_missing, Y, w, root, adj, undef, out):
    """out[j, i] = cityBlock distance of row i to reference j."""
    acc = np.empty((Y.shape[1], _BLOCK))
    for lo in range(0, n, _BLOCK):
        hi = min(n, lo + _BLOCK)
        _block_absolute(flat, off, P, has_missing, lo, hi, Y, w, root, adj, undef, acc)
        _store(acc, out, lo, hi)


@njit(cache=True, error_model="numpy", parallel=True)
def distance_columns_squares(flat, off, n, P, has_missing, Y, w, root, adj, undef, out):
    """out[j, i] = (squared) euclidean distance of row i to reference j. Blocks of rows are
    independent (each writes its own slice of out), so they run on every core."""
    nblocks = (n + _BLOCK - 1) // _BLOCK
    for b in prange(nblocks):
        lo = b * _BLOCK
        hi = min(n, lo + _BLOCK)
        acc = np.empty((Y.shape[1], _BLOCK))
        _block_squares(flat, off, P, has_missing, lo, hi, Y, w, root, adj, undef, acc)
        _store(acc, out, lo, hi)


@njit(cache=True, error_model="numpy")
def distance_columns_maximum(flat, off, n, P, has_missing, Y, w, root, adj, undef, out):
    """out[j, i] = chebychev distance of row i to reference j."""
    acc = np.empty((Y.shape[1], _BLOCK))
    for lo in range(0, n, _BLOCK):
        hi = min(n, lo + _BLOCK)
        _block_maximum(flat, off, P, has_missing, lo, hi, Y, w, root, adj, undef, acc)
        _store(acc, out, lo, hi)


#: by mode
DISTANCE_COLUMNS = (distance_columns_absolute, distance_columns_squares, distance_columns_maximum)


@intrinsic
def _has_nan(typingctx, flat, start, count):
    """Whether flat[start:start + count] holds a NaN: vectors of _LANES values compared with
    themselves, the results or-ed together (a branch-free scan), then the rest one by one."""
    sig = types.boolean(flat, start, count)

    def codegen(context, builder, signature, args):
        flat_v, start_v, count_v = args
        data = context.make_array(signature.args[0])(context, builder, flat_v).data
        lanes = ir.Constant(_I64, _LANES)
        mask_t = ir.VectorType(ir.IntType(1), _LANES)
        found = cgutils.alloca_once_value(builder, ir.Constant(mask_t, [0] * _LANES))
        with cgutils.for_range(builder, builder.sdiv(count_v, lanes)) as loop:
            at = builder.add(start_v, builder.mul(loop.index, lanes))
            v = builder.load(builder.bitcast(builder.gep(data, [at]), _VEC.as_pointer()),
                             align=8)
            builder.store(builder.or_(builder.load(found), builder.fcmp_unordered("uno", v, v)),
                          found)
        bits = builder.bitcast(builder.load(found), ir.IntType(_LANES))
        any_found = cgutils.alloca_once_value(
            builder, builder.icmp_unsigned("!=", bits, ir.Constant(ir.IntType(_LANES), 0)))
        done = builder.mul(builder.sdiv(count_v, lanes), lanes)
        with cgutils.for_range(builder, builder.sub(count_v, done)) as loop:
            x = builder.load(builder.gep(data, [builder.add(builder.add(start_v, done),
                                                            loop.index)]))
            builder.store(builder.or_(builder.load(any_found), builder.fcmp_unordered("uno", x, x)),
                          any_found)
        return builder.load(any_found)

    return sig, codegen


@njit(cache=True, error_model="numpy")
def _clean_squares(flat, off, lo, hi, Y, w, root, out):
    """``_block_squares`` and ``_block_finish`` for rows lo..hi - 1 with nothing missing
    (adjustment 1.0, which changes nothing), written straight into out (references x rows)."""
    unit = True
    for f in range(w.shape[0]):
        unit &= w[f] == 1.0
    first = lo + _vector_squares(flat, off, lo, hi - lo, Y, w, unit, out, lo)
    for j in range(Y.shape[1]):                  # the rows after the last full vector
        a = out[j]
        for i in range(first, hi):
            a[i] = 0.0
        for f in range(off.shape[0]):
            y = Y[f, j]
            wf = w[f]
            for i in range(first, hi):
                d = flat[off[f] + i] - y
                a[i] += d * d * wf
        if root:
            for i in range(lo, hi):
                a[i] = math.sqrt(a[i])


@njit(cache=True, error_model="numpy", parallel=True)
def distance_columns_raw(mode, flat, off, n, P, Y, w, root, adj, undef, out, best, finite):
    """``DISTANCE_COLUMNS[mode]`` for the user's own double columns, where NaN is missing:
    each block of rows looks for a NaN first; a block without one goes the way nothing is
    missing (adj 1.0, as f / f is), a block with one marks its present values in P (fields
    x n, written only there) and its rows' adjustment f / present fields (undefined with
    none), as ``comparison.kernel_plan`` does from the columns' masks. adj, undef: written
    for every row; best, finite: ``best_reference``'s (the nearest reference), each block's
    while its distances are in cache."""
    F = off.shape[0]
    nblocks = (n + _BLOCK - 1) // _BLOCK
    for blk in prange(nblocks):
        lo = blk * _BLOCK
        hi = min(n, lo + _BLOCK)
        nan = False
        for f in range(F):
            nan |= _has_nan(flat, off[f] + lo, hi - lo)
        if nan:
            for b in range(hi - lo):
                cnt = 0
                for f in range(F):
                    v = flat[off[f] + lo + b]
                    present = v == v
                    P[f, lo + b] = present
                    cnt += present
                undef[lo + b] = cnt <= 0
                adj[lo + b] = float(F) / float(cnt) if cnt > 0 else np.nan
        else:
            for b in range(lo, hi):
                adj[b] = 1.0
                undef[b] = False
        if mode == 1 and not nan:
            _clean_squares(flat, off, lo, hi, Y, w, root, out)
        else:
            acc = np.empty((Y.shape[1], _BLOCK))
            if mode == 0:
                _block_absolute(flat, off, P, nan, lo, hi, Y, w, root, adj, undef, acc)
            elif mode == 1:
                _block_squares(flat, off, P, nan, lo, hi, Y, w, root, adj, undef, acc)
            else:
                _block_maximum(flat, off, P, nan, lo, hi, Y, w, root, adj, undef, acc)
            _store(acc, out, lo, hi)
        _best_of_rows(out, lo, hi, 1.0, best, finite)


@njit(cache=True, error_model="numpy")
def distance_rows(flat, off, n, P, has_missing, Y, w, mode, root, adj, undef, out):
    """out[i, j] = distance of row i to reference j (row-major: many references)."""
    acc = np.empty(Y.shape[1])         # scratch: aliases nothing, so its loops vectorize
    for i in range(n):
        _row_distances(flat, off, P, has_missing, i, Y, w, mode, root, adj, undef, acc)
        out[i] = acc


@njit(cache=True, error_model="numpy", inline="always")
def _offer(k, j, cnt, R, key, idx):
    """Candidate j with key k into the best cnt held so far (keys ascending, ties in index
    order, at most R): returns how many are held now."""
    if cnt == R:
        if not k < key[R - 1]:
            return cnt
        pos = R - 1
    else:
        pos = cnt
        cnt += 1
    while pos > 0 and key[pos - 1] > k:
        key[pos] = key[pos - 1]
        idx[pos] = idx[pos - 1]
        pos -= 1
    key[pos] = k
    idx[pos] = j
    return cnt


_SKIP = 16     # scores checked together against the current R-th best


@njit(cache=True, error_model="numpy")
def _select_row(s, lower, R, key, idx):
    """The R best of s in order (lowest when lower, else highest; NaN last; ties in index
    order): a stable argsort's first R entries. Returns how many were found (min(R, len)).

    Once R are held, a group of _SKIP scores none of which beats the R-th best (a vectorized
    test) is passed over whole."""
    cnt = 0
    m = s.shape[0]
    j = 0
    while j < m:
        if cnt == R and j + _SKIP <= m:
            worst = key[R - 1]
            hit = False
            if lower:
                for t in range(_SKIP):
                    hit |= s[j + t] < worst           # NaN never beats anything
            else:
                for t in range(_SKIP):
                    hit |= -s[j + t] < worst
            if not hit:
                j += _SKIP
                continue
            end = j + _SKIP
        else:
            end = j + 1
        while j < end:
            v = s[j]
            cnt = _offer((v if lower else -v) if v == v else np.inf, j, cnt, R, key, idx)
            j += 1
    return cnt


@intrinsic
def _next_within(typingctx, s, j, bound):
    """The first j' = j + k * _LANES (k >= 0) whose _LANES values s[j':j' + _LANES] hold one
    <= bound (NaN never is), or the first j' with fewer than _LANES values left: a vector scan
    past the values that cannot count."""
    if s.layout != "C":
        return None                          # (the values side by side only)
    sig = types.int64(s, j, bound)

    def codegen(context, builder, signature, args):
        s_v, j_v, bound_v = args
        arr = context.make_array(signature.args[0])(context, builder, s_v)
        m = builder.extract_value(arr.shape, 0)
        lanes = ir.Constant(_I64, _LANES)
        limit = _splat(builder, bound_v)
        entry = builder.block
        head = builder.append_basic_block("scan")
        body = builder.append_basic_block("scan_vector")
        out = builder.append_basic_block("scan_done")
        builder.branch(head)
        builder.position_at_end(head)
        at = builder.phi(_I64)
        at.add_incoming(j_v, entry)
        builder.cbranch(builder.icmp_signed("<=", builder.add(at, lanes), m), body, out)
        builder.position_at_end(body)
        v = builder.load(builder.bitcast(builder.gep(arr.data, [at]), _VEC.as_pointer()),
                         align=8)
        hits = builder.bitcast(builder.fcmp_ordered("<=", v, limit), ir.IntType(_LANES))
        at.add_incoming(builder.add(at, lanes), body)
        builder.cbranch(builder.icmp_unsigned("!=", hits, ir.Constant(ir.IntType(_LANES), 0)),
                        out, head)
        builder.position_at_end(out)
        return at

    return sig, codegen


@njit(cache=True, error_model="numpy")
def _select_roots(s, R, key, idx):
    """``_select_row(sqrt(s), True, R, key, idx)`` for sums of squares s (euclidean distances
    before their root), taking the root only of the sums that can still be among the R
    nearest. Once R are held, a sum v above k * k (k the R-th root) is passed over: its root
    would not beat k, as sqrt(v) < k (rounded, k a double) means v < k^2 exactly, and then
    v <= the rounded k * k (rounding keeps order); whole vectors of such sums are passed
    over at once (``_next_within``). The roots that are taken are those ``_finish`` takes
    (times an adjustment of 1.0, which changes nothing). s: C-ordered."""
    cnt = 0
    m = s.shape[0]
    j = 0
    bound = np.inf
    while j < m:
        if cnt == R:
            j = _next_within(s, j, bound)       # (NaN never beats anything)
            end = min(m, j + _LANES)
        else:
            end = j + 1
        while j < end:
            v = s[j]
            if cnt < R or v <= bound:
                r = math.sqrt(v)
                cnt = _offer(r if r == r else np.inf, j, cnt, R, key, idx)
                if cnt == R:
                    bound = key[R - 1] * key[R - 1]
            j += 1
    return cnt


@njit(cache=True, error_model="numpy")
def select_nearest(s, lower, near, near_score):
    """near[i] = the best references of row i of the score matrix s, near_score[i] their
    scores (see ``_select_row``)."""
    R = near.shape[1]
    key = np.empty(R)
    idx = np.empty(R, np.int64)
    for i in range(s.shape[0]):
        _select_row(s[i], lower, R, key, idx)
        for r in range(R):
            near[i, r] = idx[r]
            near_score[i, r] = s[i, idx[r]]


@njit(cache=True, error_model="numpy")
def _pair_sums(flat, off, i, Y, w, unit, mode, acc0, acc1):
    """Rows i and i + 1 with every field present, modes 0 and 1: the sums of
    ``_row_distances`` (each reference's terms added in field order) for two rows at once,
    four fields per pass: each reference value is loaded once for both rows."""
    m = Y.shape[1]
    F = off.shape[0]
    for j in range(m):
        acc0[j] = 0.0
        acc1[j] = 0.0
    f = 0
    while f < F:
        q = min(4, F - f)
        x0 = flat[off[f] + i]
        z0 = flat[off[f] + i + 1]
        x1 = flat[off[f + 1] + i] if q > 1 else 0.0
        z1 = flat[off[f + 1] + i + 1] if q > 1 else 0.0
        x2 = flat[off[f + 2] + i] if q > 2 else 0.0
        z2 = flat[off[f + 2] + i + 1] if q > 2 else 0.0
        x3 = flat[off[f + 3] + i] if q > 3 else 0.0
        z3 = flat[off[f + 3] + i + 1] if q > 3 else 0.0
        y0 = Y[f]
        y1 = Y[f + 1] if q > 1 else y0
        y2 = Y[f + 2] if q > 2 else y0
        y3 = Y[f + 3] if q > 3 else y0
        if q == 4 and unit and mode == 1:
            for j in range(m):
                a = acc0[j]
                b = acc1[j]
                v = y0[j]
                d = x0 - v
                e = z0 - v
                a += d * d
                b += e * e
                v = y1[j]
                d = x1 - v
                e = z1 - v
                a += d * d
                b += e * e
                v = y2[j]
                d = x2 - v
                e = z2 - v
                a += d * d
                b += e * e
                v = y3[j]
                d = x3 - v
                e = z3 - v
                a += d * d
                b += e * e
                acc0[j] = a
                acc1[j] = b
        else:
            for t in range(q):
                yt = Y[f + t]
                wt = w[f + t]
                xt = flat[off[f + t] + i]
                zt = flat[off[f + t] + i + 1]
                if mode == 1:
                    for j in range(m):
                        d = xt - yt[j]
                        e = zt - yt[j]
                        acc0[j] += d * d * wt
                        acc1[j] += e * e * wt
                else:
                    for j in range(m):
                        acc0[j] += abs(xt - yt[j]) * wt
                        acc1[j] += abs(zt - yt[j]) * wt
        f += 4


def _square_sums(weighted: bool):
    """An intrinsic ``(out, flat, off, i0, Y, w)``: out[r, j] = ((0 + t_0) + t_1) + ... for the
    _LANES rows r (row i0 + r) and references j < m - m % _LANES, t_f = (x - Y[f, j])^2 (times
    w[f] when weighted), x = flat[off[f] + i0 + r]: ``_row_distances``'s operations in its
    order. A row's sums over _LANES references stay in a vector register over every field,
    each reference vector loaded once for the _LANES rows (out and Y C-ordered)."""

    @intrinsic
    def sums(typingctx, out, flat, off, i0, Y, w):
        if out.layout != "C" or Y.layout != "C":
            return None                      # (element (a, b) at a * width + b only)
        sig = types.void(out, flat, off, i0, Y, w)

        def codegen(context, builder, signature, args):
            out_v, flat_v, off_v, i0_v, y_v, w_v = args
            out_arr = context.make_array(signature.args[0])(context, builder, out_v)
            flat_data = context.make_array(signature.args[1])(context, builder, flat_v).data
            off_arr = context.make_array(signature.args[2])(context, builder, off_v)
            y_arr = context.make_array(signature.args[4])(context, builder, y_v)
            w_data = context.make_array(signature.args[5])(context, builder, w_v).data
            lanes = ir.Constant(_I64, _LANES)
            m = builder.extract_value(y_arr.shape, 1)
            out_width = builder.extract_value(out_arr.shape, 1)
            with cgutils.for_range(builder, builder.sdiv(m, lanes)) as jloop:
                jb = builder.mul(jloop.index, lanes)

                def terms(f):
                    y_ptr = builder.gep(y_arr.data, [builder.add(builder.mul(f, m), jb)])
                    y = builder.load(builder.bitcast(y_ptr, _VEC.as_pointer()), align=8)
                    start = builder.add(builder.load(builder.gep(off_arr.data, [f])), i0_v)
                    wf = _splat(builder, builder.load(builder.gep(w_data, [f]))) if weighted \
                        else None
                    return [_square_term(builder, _splat(builder, builder.load(builder.gep(
                        flat_data, [builder.add(start, ir.Constant(_I64, r))]))), y, wf)
                        for r in range(_LANES)]

                final = _field_sums(builder, builder.extract_value(off_arr.shape, 0), _LANES,
                                    terms)
                for r, v in enumerate(final):
                    dst = builder.gep(out_arr.data, [builder.add(
                        builder.mul(out_width, ir.Constant(_I64, r)), jb)])
                    builder.store(v, builder.bitcast(dst, _VEC.as_pointer()), align=8)
            return context.get_dummy_value()

        return sig, codegen

    return sums


_square_sums_unit = _square_sums(False)
_square_sums_weighted = _square_sums(True)


@njit(cache=True, error_model="numpy")
def _block_square_sums(flat, off, i0, Y, w, unit, out):
    """out[r, j] = the sum over fields f, in order, of (x - Y[f, j])^2 (times w[f] unless unit)
    for the _LANES rows i0 + r and every reference j: ``_row_distances``'s sums (mode 1)
    before ``_finish``. out: (_LANES, m)."""
    if unit:
        _square_sums_unit(out, flat, off, i0, Y, w)
    else:
        _square_sums_weighted(out, flat, off, i0, Y, w)
    m = Y.shape[1]
    for j in range(m - m % _LANES, m):      # the references after the last full vector
        for r in range(_LANES):
            a = 0.0
            for f in range(off.shape[0]):
                d = flat[off[f] + i0 + r] - Y[f, j]
                a += d * d if unit else d * d * w[f]
            out[r, j] = a


@njit(cache=True, error_model="numpy")
def _keep_nearest(a, i, finished, root, lower, adj, undef, key, idx, near, near_score):
    """Row i's R nearest of its distances a (``_finish``ed already unless not finished) into
    near[i] and near_score[i]."""
    R = near.shape[1]
    if not finished and root and lower and adj[i] == 1.0 and not undef[i]:
        _select_roots(a, R, key, idx)        # (roots only where they can matter)
        for t in range(R):
            near[i, t] = idx[t]
            near_score[i, t] = math.sqrt(a[idx[t]])
        return
    if not finished:
        _finish(i, root, adj, undef, a)
    _select_row(a, lower, R, key, idx)
    for t in range(R):
        near[i, t] = idx[t]
        near_score[i, t] = a[idx[t]]


@njit(cache=True, error_model="numpy")
def _nearest_range(flat, off, lo, hi, P, has_missing, Y, w, mode, root, adj, undef, lower,
                   near, near_score):
    """Rows lo..hi-1: distances to every reference, then the R nearest (when no value is
    missing: sums of squares eight rows at a time, ``_block_square_sums``, else two)."""
    R = near.shape[1]
    m = Y.shape[1]
    acc = np.empty(m)
    acc1 = np.empty(m)
    key = np.empty(R)
    idx = np.empty(R, np.int64)
    unit = True
    for f in range(w.shape[0]):
        if w[f] != 1.0:
            unit = False
    pairs = not has_missing and mode != 2 and off.shape[0] > 0
    blocks = pairs and mode == 1 and m >= _LANES
    sums = np.empty((_LANES if blocks else 0, m))
    i = lo
    while i < hi:
        if blocks and i + _LANES <= hi:
            _block_square_sums(flat, off, i, Y, w, unit, sums)
            for r in range(_LANES):
                _keep_nearest(sums[r], i + r, False, root, lower, adj, undef, key, idx, near,
                              near_score)
            i += _LANES
        elif pairs and i + 1 < hi:
            _pair_sums(flat, off, i, Y, w, unit, mode, acc, acc1)
            _keep_nearest(acc, i, False, root, lower, adj, undef, key, idx, near, near_score)
            _keep_nearest(acc1, i + 1, False, root, lower, adj, undef, key, idx, near,
                          near_score)
            i += 2
        else:
            _row_distances(flat, off, P, has_missing, i, Y, w, mode, root, adj, undef, acc)
            _keep_nearest(acc, i, True, root, lower, adj, undef, key, idx, near, near_score)
            i += 1


@njit(cache=True, error_model="numpy")
def nearest_distances(flat, off, n, P, has_missing, Y, w, mode, root, adj, undef, lower, near,
                      near_score):
    """near[i] = the R nearest references of row i (``select_nearest`` of its distances),
    near_score[i] their distances: distance_rows and select_nearest fused, a row at a time."""
    _nearest_range(flat, off, 0, n, P, has_missing, Y, w, mode, root, adj, undef, lower, near,
                   near_score)


NEAREST_CHUNK = 128          # rows per parallel task (an even number: rows go in pairs)


@njit(cache=True, error_model="numpy", parallel=True)
def nearest_distances_par(flat, off, n, P, has_missing, Y, w, mode, root, adj, undef, lower,
                          near, near_score):
    """nearest_distances over row chunks in parallel (rows are independent: same results)."""
    chunks = (n + NEAREST_CHUNK - 1) // NEAREST_CHUNK
    for c in prange(chunks):
        lo = c * NEAREST_CHUNK
        _nearest_range(flat, off, lo, min(n, lo + NEAREST_CHUNK), P, has_missing, Y, w, mode,
                       root, adj, undef, lower, near, near_score)


@njit(cache=True, error_model="numpy")
def best_reference(scores, lower, best, finite):
    """best[i] = the first reference with the lowest (lower) or highest score in row i, NaN
    counting as the worst; finite[i]: its score is finite (``clustering.best_references``)."""
    for i in range(scores.shape[0]):
        b = 0
        bk = np.inf
        for j in range(scores.shape[1]):
            v = scores[i, j]
            k = (v if lower else -v) if v == v else np.inf
            if j == 0 or k < bk:
                b = j
                bk = k
        best[i] = b
        v = scores[i, b]
        finite[i] = v == v and abs(v) != np.inf


@njit(cache=True, error_model="numpy")
def best_reference_columns(by_ref, lower, best, finite):
    """``best_reference`` of the scores by_ref.T (references x rows, as the distance kernels
    of few references write them), a chunk of rows at a time (``_best_of_rows``)."""
    n = by_ref.shape[1]
    for lo in range(0, n, _BEST_CHUNK):
        _best_of_rows(by_ref, lo, min(n, lo + _BEST_CHUNK), 1.0 if lower else -1.0, best,
                      finite)


@njit(cache=True, error_model="numpy")
def _best_of_rows(by_ref, lo, hi, sign, best, finite):
    """``best_reference`` of rows lo..hi - 1 of the scores by_ref.T, the lowest of the scores
    times sign: the references in the outer loop and selects in the inner one, so the rows
    fill the vector lanes (the running best is read before it is replaced, and the index
    kept as a double, so both selects are of one type)."""
    c = hi - lo
    bk = np.empty(c)
    bj = np.empty(c)
    first = by_ref[0, lo:hi]
    for i in range(c):
        v = first[i]
        bk[i] = v * sign if v == v else np.inf
        bj[i] = 0.0
    for j in range(1, by_ref.shape[0]):
        jf = float(j)
        s = by_ref[j, lo:hi]
        for i in range(c):
            v = s[i]
            k = v * sign if v == v else np.inf
            cur = bk[i]
            at = bj[i]
            better = k < cur
            bk[i] = k if better else cur
            bj[i] = jf if better else at
    for i in range(c):
        b = int(bj[i])
        best[lo + i] = b
        v = by_ref[b, lo + i]
        finite[lo + i] = v == v and abs(v) != np.inf


_BEST_CHUNK = 512


_SQ_ROWS = 4      # rows sharing each load of a support vector coordinate


@njit(cache=True, error_model="numpy")
def _sq_rows(x, vt, i, dst):
    """dst[t] = squared distances of row i + t (t < _SQ_ROWS; rows past the end of x repeat
    its last row) to every vector (vt: fields x vectors), each sum taken feature by feature
    from 0.0: two features per pass over the vectors, four rows' sums side by side (each vector
    coordinate is loaded once)."""
    m, f = vt.shape[1], x.shape[1]
    last = x.shape[0] - 1
    o0, o1, o2, o3 = dst[0], dst[1], dst[2], dst[3]
    x0, x1, x2, x3 = x[i], x[min(i + 1, last)], x[min(i + 2, last)], x[min(i + 3, last)]
    for j in range(m):
        o0[j] = 0.0
        o1[j] = 0.0
        o2[j] = 0.0
        o3[j] = 0.0
    k = 0
    while k + 2 <= f:
        p = vt[k]
        q = vt[k + 1]
        a0, a1, b0, b1 = x0[k], x0[k + 1], x1[k], x1[k + 1]
        c0, c1, e0, e1 = x2[k], x2[k + 1], x3[k], x3[k + 1]
        for j in range(m):
            pj = p[j]
            qj = q[j]
            d0 = a0 - pj
            d1 = a1 - qj
            o0[j] = (o0[j] + d0 * d0) + d1 * d1
            d0 = b0 - pj
            d1 = b1 - qj
            o1[j] = (o1[j] + d0 * d0) + d1 * d1
            d0 = c0 - pj
            d1 = c1 - qj
            o2[j] = (o2[j] + d0 * d0) + d1 * d1
            d0 = e0 - pj
            d1 = e1 - qj
            o3[j] = (o3[j] + d0 * d0) + d1 * d1
        k += 2
    if k < f:
        p = vt[k]
        a0, b0, c0, e0 = x0[k], x1[k], x2[k], x3[k]
        for j in range(m):
            pj = p[j]
            d0 = a0 - pj
            o0[j] += d0 * d0
            d0 = b0 - pj
            o1[j] += d0 * d0
            d0 = c0 - pj
            o2[j] += d0 * d0
            d0 = e0 - pj
            o3[j] += d0 * d0


@njit(cache=True, error_model="numpy", parallel=True)
def sq_euclidean(x, v):
    """Squared Euclidean distances of every row of x to every row of v, summed feature by
    feature in order: the same operations (so the same doubles) as scipy's cdist sqeuclidean,
    over both cores (rows are independent: groups of _SQ_ROWS rows run in parallel)."""
    n, m = x.shape[0], v.shape[0]
    vt = np.ascontiguousarray(v.T)
    out = np.empty((n, m))
    full = n // _SQ_ROWS
    for g in prange(full):
        i = g * _SQ_ROWS
        _sq_rows(x, vt, i, out[i:i + _SQ_ROWS])
    if full * _SQ_ROWS < n:                     # the short last group: through a scratch block
        i = full * _SQ_ROWS
        tail = np.empty((_SQ_ROWS, m))
        _sq_rows(x, vt, i, tail)
        out[i:] = tail[:n - i]
    return out


@njit(cache=True, error_model="numpy")
def sq_euclidean_row(x, vt, out):
    """out[j] = squared distance of the row x to vector j (vt: fields x vectors), summed
    feature by feature from 0.0: ``sq_euclidean``'s (and scipy's cdist's) operations for one
    row, vector j in lane j."""
    m = vt.shape[1]
    for j in range(m):
        out[j] = 0.0
    for k in range(x.shape[0]):
        xk = x[k]
        p = vt[k]
        for j in range(m):
            d = xk - p[j]
            out[j] += d * d


# ================================================================= RBF support vector machines
# The fast path of the radial basis kernel (``svm_rbf``): squared distances expanded as
# |x|^2 + |v|^2 - 2 x.v with fused multiply-adds, and the dual sums in any order. Unlike every
# other kernel here these round differently from their numpy twins; svm_rbf bounds the rounding
# of both and scores exactly every row whose decision the bound cannot settle.


@njit(cache=True, error_model="numpy", nogil=True, fastmath={"contract"})
def rbf_exponents(x, vt, xx, vv, neg_gamma, out):
    """out[i, j] = max(xx[i] + vv[j] - 2 x_i.v_j, 0) * neg_gamma (vt: fields x vectors), four
    rows and four fields per pass over the vectors."""
    n, f = x.shape
    m = vt.shape[1]
    tail = np.empty((4, m))
    for i in range(0, n, 4):
        r = min(4, n - i)
        dst = out[i:i + 4] if r == 4 else tail      # a short last group: through a scratch block
        o0, o1, o2, o3 = dst[0], dst[1], dst[2], dst[3]
        x0, x1, x2, x3 = x[i], x[i + min(1, r - 1)], x[i + min(2, r - 1)], x[i + min(3, r - 1)]
        for j in range(m):
            o0[j] = 0.0
            o1[j] = 0.0
            o2[j] = 0.0
            o3[j] = 0.0
        k = 0
        while k + 4 <= f:
            p, q, g, h = vt[k], vt[k + 1], vt[k + 2], vt[k + 3]
            a0, a1, a2, a3 = x0[k], x0[k + 1], x0[k + 2], x0[k + 3]
            b0, b1, b2, b3 = x1[k], x1[k + 1], x1[k + 2], x1[k + 3]
            c0, c1, c2, c3 = x2[k], x2[k + 1], x2[k + 2], x2[k + 3]
            e0, e1, e2, e3 = x3[k], x3[k + 1], x3[k + 2], x3[k + 3]
            for j in range(m):
                pj, qj, gj, hj = p[j], q[j], g[j], h[j]
                o0[j] = o0[j] + a0 * pj + a1 * qj + a2 * gj + a3 * hj
                o1[j] = o1[j] + b0 * pj + b1 * qj + b2 * gj + b3 * hj
                o2[j] = o2[j] + c0 * pj + c1 * qj + c2 * gj + c3 * hj
                o3[j] = o3[j] + e0 * pj + e1 * qj + e2 * gj + e3 * hj
            k += 4
        while k < f:
            p = vt[k]
            a0, b0, c0, e0 = x0[k], x1[k], x2[k], x3[k]
            for j in range(m):
                pj = p[j]
                o0[j] += a0 * pj
                o1[j] += b0 * pj
                o2[j] += c0 * pj
                o3[j] += e0 * pj
            k += 1
        for t in range(r):
            o = dst[t]
            a = xx[i + t]
            dt = out[i + t]
            for j in range(m):
                d = (a + vv[j]) - 2.0 * o[j]
                dt[j] = (d if d > 0.0 else 0.0) * neg_gamma


@njit(cache=True, error_model="numpy", nogil=True, fastmath={"reassoc", "contract"})
def rbf_sums(kmat, coef_t, abs_coef_t, f, s):
    """f[i, c] = sum_j kmat[i, j] coef_t[c, j] and s[i, c] the same with |coef| (the scale of
    the rounding error), each sum in any order."""
    for i in range(kmat.shape[0]):
        row = kmat[i]
        for c in range(coef_t.shape[0]):
            w = coef_t[c]
            a = abs_coef_t[c]
            t = 0.0
            u = 0.0
            for j in range(row.shape[0]):
                t += row[j] * w[j]
                u += row[j] * a[j]
            f[i, c] = t
            s[i, c] = u
