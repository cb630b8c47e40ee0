"""The data model: units, FOVs, windows, outlines, validation, and no mutation."""

from __future__ import annotations

import anndata as ad
import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
import shapely

from cytoql.data import Sample
from cytoql.data.polygons import array_to_polygons, attach_polygons, polygons_to_array
from cytoql.errors import DataError


def make_adata(n=6, unit="um", fov=True, **uns):
    rng = np.random.default_rng(0)
    xy = np.column_stack([np.arange(n, dtype=float) * 10.0, np.arange(n, dtype=float) % 3])
    obs = pd.DataFrame(
        {"cell_type": pd.Categorical(["T cell", "B cell", "Tumour"] * (n // 3)),
         "score": np.linspace(0, 1, n),
         "flag": [True, False] * (n // 2)},
        index=[f"c{i}" for i in range(n)],
    )
    if fov:
        obs["fov"] = pd.Categorical(["1"] * (n // 2) + ["2"] * (n - n // 2))
    adata = ad.AnnData(X=sp.csr_matrix(rng.poisson(2, (n, 3)).astype(np.float32)), obs=obs,
                       var=pd.DataFrame(index=["CD3E", "CD19", "KRT8"]))
    adata.obsm["spatial"] = xy
    if unit is not None:
        adata.uns["spatial_unit"] = unit
    adata.uns.update(uns)
    return adata


def snapshot(adata):
    return (adata.obs.copy(deep=True), {k: np.array(v, copy=True) for k, v in adata.obsm.items()},
            dict(adata.uns), adata.X.toarray().copy(), list(adata.obs_names))


def assert_same(before, after):
    obs0, obsm0, uns0, x0, names0 = before
    obs1, obsm1, uns1, x1, names1 = after
    pd.testing.assert_frame_equal(obs0, obs1)
    assert obsm0.keys() == obsm1.keys()
    for k in obsm0:
        np.testing.assert_array_equal(obsm0[k], obsm1[k])
    assert uns0.keys() == uns1.keys()
    np.testing.assert_array_equal(x0, x1)
    assert names0 == names1


# ----------------------------------------------------------------------------- units
def test_micrometres_are_kept():
    s = Sample.from_anndata(make_adata())
    assert s.scale.um_per_unit == 1.0 and not s.scale.assumed
    np.testing.assert_array_equal(s.xy[:, 0], np.arange(6) * 10.0)
    assert s.assumptions == ("window of FOV '1': bounding box of its cells (no uns['fov_windows'] entry)",
                             "window of FOV '2': bounding box of its cells (no uns['fov_windows'] entry)")


def test_millimetres_convert_to_micrometres():
    s = Sample.from_anndata(make_adata(unit="mm"))
    np.testing.assert_allclose(s.xy[:, 0], np.arange(6) * 10_000.0)
    assert s.scale.unit == "mm"


def test_pixels_use_um_per_px():
    s = Sample.from_anndata(make_adata(unit="px", um_per_px=0.5))
    np.testing.assert_allclose(s.xy[:, 0], np.arange(6) * 5.0)
    assert not s.scale.assumed


def test_pixels_without_scale_assume_one_micrometre_and_say_so():
    s = Sample.from_anndata(make_adata(unit="px"))
    assert s.scale.assumed
    assert any("assumed 1 px = 1 µm" in a for a in s.assumptions)


def test_missing_unit_is_assumed_and_recorded():
    s = Sample.from_anndata(make_adata(unit=None))
    assert s.scale.assumed and s.scale.um_per_unit == 1.0
    assert s.assumptions[0] == ("no spatial unit in uns['spatial_unit'] and none given; "
                                "assumed 1 unit = 1 µm")
    assert "assumed 1 unit = 1 µm" in s.summary()


def test_explicit_scale_overrides_metadata():
    s = Sample.from_anndata(make_adata(unit="px", um_per_px=0.5), um_per_unit=2.0)
    np.testing.assert_allclose(s.xy[:, 0], np.arange(6) * 20.0)


def test_unknown_unit_is_refused():
    with pytest.raises(DataError, match=r"unknown spatial unit 'furlong' in uns\['spatial_unit'\]; "
                                        r"use one of: micron, mm, nm, px, um, µm"):
        Sample.from_anndata(make_adata(unit="furlong"))


def test_non_positive_scale_is_refused():
    with pytest.raises(DataError, match="um_per_unit must be a positive finite number, got -1"):
        Sample.from_anndata(make_adata(), um_per_unit=-1)


# ----------------------------------------------------------------------------- FOVs
def test_cells_split_by_fov():
    s = Sample.from_anndata(make_adata())
    assert [f.name for f in s.fovs] == ["1", "2"]
    np.testing.assert_array_equal(s.fov("1").index, [0, 1, 2])
    np.testing.assert_array_equal(s.fov("2").xy, s.xy[3:])


def test_no_fov_column_gives_one_fov():
    s = Sample.from_anndata(make_adata(fov=False))
    assert [f.name for f in s.fovs] == ["all"]
    assert s.fovs[0].n_cells == 6


def test_unused_fov_categories_are_skipped():
    adata = make_adata()
    adata.obs["fov"] = adata.obs["fov"].cat.add_categories(["9"])
    assert [f.name for f in Sample.from_anndata(adata).fovs] == ["1", "2"]


def test_integer_fov_column_is_accepted():
    adata = make_adata()
    adata.obs["fov"] = [3, 3, 3, 12, 12, 12]
    assert [f.name for f in Sample.from_anndata(adata).fovs] == ["3", "12"]


def test_fovs_nest_in_samples():
    adata = make_adata()
    adata.obs["sample"] = ["a", "b", "a", "b", "a", "b"]
    s = Sample.from_anndata(adata, sample_key="sample")
    assert [f.name for f in s.fovs] == ["a/1", "a/2", "b/1", "b/2"]
    np.testing.assert_array_equal(s.fov("a/1").index, [0, 2])
    assert s.fov("b/2").sample == "b"


def test_unknown_fov_name_suggests():
    s = Sample.from_anndata(make_adata())
    with pytest.raises(DataError, match="no field of view '3'; FOVs: \"1\", \"2\""):
        s.fov("3")


def test_missing_fov_rows_are_refused():
    adata = make_adata()
    adata.obs["fov"] = adata.obs["fov"].astype(object)
    adata.obs.loc["c1", "fov"] = np.nan
    with pytest.raises(DataError, match=r"1 cell\(s\) have no value in obs\['fov'\], e.g. \"c1\""):
        Sample.from_anndata(adata)


# ----------------------------------------------------------------------------- windows
def test_window_defaults_to_bounding_box():
    w = Sample.from_anndata(make_adata()).fov("1").window
    assert (w.xmin, w.ymin, w.xmax, w.ymax, w.source) == (0.0, 0.0, 20.0, 2.0, "cells")
    assert w.area == 40.0


def test_window_from_metadata_is_converted():
    adata = make_adata(unit="mm", fov_windows={"1": [0, 0, 30, 3], "2": [20, 0, 60, 3]})
    s = Sample.from_anndata(adata)
    w = s.fov("1").window
    assert w.source == "metadata"
    np.testing.assert_allclose(w.as_tuple(), (0, 0, 30_000, 3_000))
    assert s.assumptions == ()


def test_window_argument_overrides_metadata():
    adata = make_adata(fov_windows={"1": [0, 0, 30, 3]})
    s = Sample.from_anndata(adata, windows={"1": (-1, -1, 100, 100)})
    assert s.fov("1").window.as_tuple() == (-1, -1, 100, 100)
    assert s.fov("1").window.source == "user"
    assert s.fov("2").window.source == "cells"


def test_one_window_for_all_fovs():
    s = Sample.from_anndata(make_adata(), windows=(0, 0, 100, 10))
    assert all(f.window.as_tuple() == (0, 0, 100, 10) for f in s.fovs)


def test_cells_outside_window_are_refused():
    with pytest.raises(DataError, match=r"2 cell\(s\) of FOV '1' lie outside its window .* "
                                        r"e.g. \"c1\", \"c2\""):
        Sample.from_anndata(make_adata(), windows={"1": (0, 0, 5, 5)})


def test_windows_for_unknown_fov_are_refused():
    with pytest.raises(DataError, match="windows given for unknown FOV\\(s\\) \"7\"; FOVs: \"1\", \"2\""):
        Sample.from_anndata(make_adata(), windows={"7": (0, 0, 5, 5)})


def test_malformed_window_is_refused():
    with pytest.raises(DataError, match=r"uns\['fov_windows'\]\['1'\] must have xmax > xmin"):
        Sample.from_anndata(make_adata(fov_windows={"1": [5, 0, 5, 3]}))


# ----------------------------------------------------------------------------- validation
def test_missing_positions_list_obsm_keys():
    adata = make_adata()
    adata.obsm["X_umap"] = adata.obsm.pop("spatial")
    with pytest.raises(DataError, match=r"no positions: adata.obsm\['spatial'\] is missing; "
                                        r"obsm keys: \"X_umap\""):
        Sample.from_anndata(adata)


def test_wrong_position_shape_is_refused():
    adata = make_adata()
    adata.obsm["spatial"] = np.zeros((6, 3))
    with pytest.raises(DataError, match=r"must have shape \(n_cells, 2\), got \(6, 3\); 3-D"):
        Sample.from_anndata(adata)


def test_nan_coordinates_name_the_cells():
    adata = make_adata()
    adata.obsm["spatial"][[1, 4], 0] = [np.nan, np.inf]
    with pytest.raises(DataError, match=r"2 cell\(s\) have NaN or infinite coordinates in "
                                        r"adata.obsm\['spatial'\]: \"c1\", \"c4\""):
        Sample.from_anndata(adata)


def test_absent_label_column_lists_categorical_columns():
    with pytest.raises(DataError) as err:
        Sample.from_anndata(make_adata(), type_key="celltype")
    assert str(err.value) == ("obs has no label column (type_key) 'celltype'; did you mean "
                              "\"cell_type\"? categorical columns: \"cell_type\", \"flag\", \"fov\"")


def test_float_label_column_is_refused():
    with pytest.raises(DataError, match=r"obs\['score'\] has dtype float64 and cannot be used as labels"):
        Sample.from_anndata(make_adata(), type_key="score")


def test_duplicate_obs_names_are_refused():
    adata = make_adata()
    adata.obs_names = ["c0", "c1", "c1", "c3", "c3", "c5"]
    with pytest.raises(DataError, match=r"obs names are not unique \(2 repeated, e.g. \"c1\", \"c3\"\)"):
        Sample.from_anndata(adata)


def test_labels_and_columns():
    s = Sample.from_anndata(make_adata())
    assert s.cell_types == ["B cell", "T cell", "Tumour"]
    np.testing.assert_array_equal(s.type_codes, [1, 0, 2, 1, 0, 2])
    assert s.numeric_columns == ["score"]
    codes, cats = s.codes("flag")
    assert cats == ["False", "True"] and codes.tolist() == [1, 0, 1, 0, 1, 0]
    with pytest.raises(DataError, match=r"obs\['cell_type'\] is not numeric .* numeric columns: \"score\""):
        s.numeric("cell_type")


def test_no_label_column_when_asked():
    s = Sample.from_anndata(make_adata(), type_key=None)
    with pytest.raises(DataError, match="built without a label column"):
        s.type_codes


# ----------------------------------------------------------------------------- expression
def test_expression_by_gene():
    adata = make_adata()
    s = Sample.from_anndata(adata)
    np.testing.assert_array_equal(s.expression("CD19"), adata.X.toarray()[:, 1])


def test_expression_from_layer():
    adata = make_adata()
    adata.layers["norm"] = np.ones((6, 3))
    assert Sample.from_anndata(adata).expression("KRT8", layer="norm").tolist() == [1.0] * 6


def test_unknown_gene_suggests():
    with pytest.raises(DataError, match="no gene or marker 'CD3' in var_names; did you mean \"CD3E\"?"):
        Sample.from_anndata(make_adata()).expression("CD3")


def test_unknown_layer_lists_layers():
    with pytest.raises(DataError, match="no layer 'counts'; layers: none"):
        Sample.from_anndata(make_adata()).expression("CD3E", layer="counts")


# ----------------------------------------------------------------------------- outlines
def squares(xy, half=1.0):
    return [shapely.box(x - half, y - half, x + half, y + half) for x, y in xy]


def test_polygons_round_trip_through_h5ad(tmp_path):
    adata = make_adata()
    polys = squares(adata.obsm["spatial"])
    polys[2] = None
    with_outlines = attach_polygons(adata, polys)
    path = tmp_path / "cells.h5ad"
    with_outlines.write_h5ad(path)
    back = Sample.from_anndata(ad.read_h5ad(path))
    assert back.has_polygons
    got = back.polygons()
    assert got[2] is None
    for want, have in zip(polys, got):
        if want is not None:
            assert have.equals(want)


def test_polygons_follow_subsetting():
    adata = attach_polygons(make_adata(), squares(make_adata().obsm["spatial"]))
    sub = Sample.from_anndata(adata[[4, 1]].copy())
    assert sub.polygons()[0].centroid.equals(shapely.Point(40, 1))


def test_polygons_are_converted_to_micrometres():
    adata = attach_polygons(make_adata(unit="mm"), squares(make_adata().obsm["spatial"], 0.5))
    s = Sample.from_anndata(adata)
    assert s.polygons()[0].area == pytest.approx(1000.0 ** 2)


def test_attach_by_obs_name():
    adata = make_adata()
    out = attach_polygons(adata, {"c3": [(29, 0), (31, 0), (31, 2), (29, 2)]})
    got = Sample.from_anndata(out).polygons()
    assert [p is not None for p in got] == [False, False, False, True, False, False]
    assert "polygons" not in adata.obsm  # copy=True left the input alone


def test_polygons_of_wrong_length_are_refused():
    with pytest.raises(DataError, match="got 2 outlines for 6 cells"):
        attach_polygons(make_adata(), squares([(0, 0), (1, 1)]))


def test_polygons_for_unknown_names_are_refused():
    with pytest.raises(DataError, match=r"1 outline key\(s\) are not obs names, e.g. \['zz'\]"):
        attach_polygons(make_adata(), {"zz": shapely.box(0, 0, 1, 1)})


def test_polygons_far_from_their_cells_are_refused():
    adata = make_adata()
    shuffled = squares(adata.obsm["spatial"])[::-1]
    with pytest.raises(DataError, match=r"outline\(s\) in obsm\['polygons'\] do not match their cells"):
        attach_polygons(adata, shuffled)


def test_degenerate_polygons_are_refused():
    with pytest.raises(DataError, match="outline 0 has 2 distinct vertices; a polygon needs 3"):
        polygons_to_array([[(0, 0), (1, 1), (0, 0)]])


def test_padding_must_be_trailing():
    adata = make_adata()
    arr = polygons_to_array(squares(adata.obsm["spatial"]))
    arr[0, 1] = np.nan
    adata.obsm["polygons"] = arr
    sample = Sample.from_anndata(adata)  # outlines are checked when first read
    with pytest.raises(DataError, match="has vertices after NaN padding"):
        sample.polygon_array


def test_array_to_polygons_drops_padding():
    arr = polygons_to_array([shapely.box(0, 0, 1, 1), shapely.Polygon([(0, 0), (2, 0), (0, 2)])])
    assert arr.shape == (2, 4, 2)
    assert [len(p.exterior.coords) - 1 for p in array_to_polygons(arr)] == [4, 3]


# ----------------------------------------------------------------------------- no mutation
def test_caller_anndata_is_never_modified():
    adata = attach_polygons(make_adata(unit="mm", fov_windows={"1": [0, 0, 30, 3]}),
                            squares(make_adata().obsm["spatial"]))
    adata.obs["fov"] = adata.obs["fov"].astype(str)      # not categorical: must not be converted
    before = snapshot(adata)
    s = Sample.from_anndata(adata, type_key="flag")
    s.expression("CD3E")
    s.codes("cell_type")
    s.numeric("score")
    s.summary()
    s.polygons()
    assert_same(before, snapshot(adata))
    with pytest.raises(ValueError, match="read-only"):
        s.xy[0, 0] = 1.0


def test_summary_lists_schema():
    text = Sample.from_anndata(make_adata(unit="mm")).summary()
    assert text.splitlines()[0] == "6 cells × 3 genes"
    assert "unit: mm (1000 µm/mm)" in text
    assert "cell types: 3 in obs['cell_type']" in text
    assert "  'B cell'" in text
    assert "genes: 3: CD3E, CD19, KRT8" in text
    assert "other obs columns: score (numeric), flag (categorical, 2 values)" in text


# ----------------------------------------------------------------------------- no cells
def test_an_anndata_without_cells_is_a_data_error_naming_what_it_has():
    import cytoql

    adata = make_adata()[:0].copy()
    before = snapshot(adata)
    with pytest.raises(DataError) as info:
        Sample.from_anndata(adata)
    assert str(info.value) == (
        'the AnnData has no cells (0 rows in obs), so there is nothing to query; check the '
        'filter or file that produced it (obs columns: "cell_type", "score", "flag", "fov"; '
        "3 genes)")
    with pytest.raises(DataError, match="the AnnData has no cells"):
        cytoql.query(adata, "count(cells)")
    assert_same(before, snapshot(adata))
