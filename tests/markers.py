"""Which tests are ``slow``, ``browser`` or ``pipeline`` (``make test-fast`` leaves them out).

``pipeline`` is every test under ``tests/pipeline/`` (they run dagster); ``browser`` is
``tests/server/test_server_page.py`` (headless Chromium). ``slow`` is every test function below:
the whole-corpus modules, and each function one of whose cases took over 1 s in a full run
(``pytest --durations=0`` on 2 cores, load average about 2; the full run took 1,072 s, the rest
about 161 s of it). ``tests/test_layout.py`` checks that every name here is a test that exists.
"""

from __future__ import annotations

import pytest

__all__ = ["SLOW", "mark"]

# module (below tests/) -> its slow test functions, or "*" for all of them
SLOW: dict[str, str | set[str]] = {
    "conversion.test_corpus": "*",
    "export.test_export_roundtrip": "*",
    "query.test_engines": "*",  # starts Virtuoso (about 13 s) and an Oxigraph server
    "store.test_store_virtuoso": "*",
    "conversion.test_chunks": {
        "test_chunked_equals_whole_on_real_files",
    },
    "conversion.test_fidelity": {
        "test_distinct_ids_distinct_iris_and_no_loops",
    },
    "conversion.test_output_safety": {
        "test_a_full_device_is_a_no_space_error",
        "test_a_null_device_stays_a_device",
        "test_a_stop_signal_during_a_chunked_conversion_leaves_nothing",
        "test_a_truncated_gzip_file_is_a_problem_on_the_line_it_stops",
    },
    "conversion.test_properties": {
        "test_faldo_shape_of_emitted_locations",
    },
    "export.test_export": {
        "test_round_trip_through_an_endpoint",
        "test_round_trip_through_the_store",
    },
    "export.test_export_properties": {
        "test_export_gives_back_what_convert_read",
    },
    "gff3.test_conformance": {
        "test_agreement_with_genometools",
    },
    "gff3.test_gffutils_differential": {
        "test_reader_agrees_with_gffutils",
    },
    "query.test_canned_plans": {
        "test_library_cli_routes_and_page_send_the_same_plan",
        "test_the_page_shows_and_runs_the_same_plans",
    },
    "query.test_federation": {
        "test_every_canned_query_gives_the_same_rows_on_a_served_store",
        "test_uniprot_go_by_locus_names",
    },
    "query.test_queries": {
        "test_bound_queries_parse_and_carry_no_unbound_parameter",
        "test_qc_missing_parents",
        "test_qc_transcripts_without_exons",
        "test_values_binding_gives_the_same_rows_as_replacing_the_variables",
        "test_version_diff",
    },
    "server.test_guard_bypass": {
        "test_adversarial_texts_take_linear_time",
    },
    "server.test_guard_equivalence": {
        "test_canned_queries_give_the_same_rows",
    },
    "server.test_guard_redteam_server": {
        "test_a_reply_that_aborts_the_engine_reveals_nothing",
        "test_attacks_through_the_server",
    },
    "server.test_server_app": {
        "test_failure_while_streaming_breaks_the_stream",
        "test_our_select_output_equals_pyoxigraphs",
        "test_timeout_kills_the_worker_and_the_next_query_works",
    },
    "server.test_server_defects": {
        "test_over_max_rows_past_1_mib_is_422_not_a_cut_200",
    },
    "server.test_server_http": {
        "test_a_failing_stream_is_cut_for_a_real_client",
        "test_sigterm_answers_503_to_a_query_past_the_grace",
        "test_sigterm_lets_a_query_in_flight_finish",
        "test_soak",
        "test_timeout_is_a_504_and_the_cpu_is_freed",
        "test_workers_die_with_a_killed_server",
    },
    "server.test_server_pool": {
        "test_a_write_is_not_held_back_by_reads_that_came_after_it",
        "test_a_write_kills_a_stuck_stream_at_its_deadline",
        "test_a_write_over_write_memory_fails_and_leaves_the_store_as_it_was",
        "test_a_write_waits_for_the_query_in_flight_and_reads_for_the_write",
        "test_readers_never_see_half_a_write",
        "test_writes_reopen_the_views_instead_of_restarting_workers",
    },
    "server.test_server_slow_clients": {
        "test_a_light_query_is_not_queued_behind_heavy_ones",
        "test_a_light_shape_that_turns_slow_is_heavy_from_then_on",
        "test_a_trickled_body_is_cut_at_the_minimum_rate",
        "test_trickling_clients_are_cut_and_capped_while_others_are_served",
        "test_trickling_clients_from_many_addresses_do_not_lock_others_out",
    },
    "server.test_server_w3c_graph_store": {
        "test_http_rdf_update",
    },
    "shacl.test_shacl": {
        "test_chunked_verdicts_equal_whole_graph_verdicts",
        "test_each_rule_reports_exactly_its_violation",
        "test_every_corpus_file_converts_to_conforming_rdf",
        "test_every_shape_targets_nodes_of_converted_data",
        "test_large_turtle_is_streamed_to_lines_and_chunked",
        "test_nquads_gzip_and_turtle_give_the_same_verdicts",
        "test_pyshacl_agrees_on_corpus_files",
        "test_shuffled_lines_split_every_subject_and_still_agree",
        "test_sparql_engine_agrees_with_pyshacl_on_every_rule",
        "test_subclass_triples_in_the_data_are_followed",
    },
    "shacl.test_shacl_fast": {
        "test_corpus_files_are_proven",
        "test_every_mutation_at_once_across_picks_is_handed_over",
        "test_no_mutation_is_ever_proven",
    },
    "shacl.test_shacl_fast_hypothesis": {
        "test_a_bound_holds_for_the_proof_only_if_it_holds_for_oxigraph",
        "test_a_pattern_the_proof_compiles_matches_as_in_oxigraph",
        "test_whatever_the_exact_engine_rejects_is_never_proven",
    },
    "shacl.test_shacl_fast_mutations": {
        "test_every_constraint_of_every_shapes_file_has_a_generator",
    },
    "shacl.test_validate_cli": {
        "test_a_stored_genome_version_is_validated_with_its_metadata",
    },
    "store.test_store": {
        "test_a_build_loaded_in_pieces_is_whole",
        "test_bad_input_at_the_last_line_changes_nothing",
        "test_changed_source_or_options_rebuild_and_say_why",
        "test_code_version_bump_rebuilds",
        "test_drop_and_dump_cli",
        "test_failure_at_the_flip_changes_nothing",
        "test_leftovers_of_a_killed_load_are_cleaned_on_open",
        "test_metadata_is_valid_prov_pav_void_dcat",
        "test_rdf_files_from_convert_load_like_gff3",
        "test_reload_unchanged_is_a_noop",
        "test_schema_version_bump_marks_graphs_stale_and_rebuilds",
        "test_the_load_piece_setting_and_optimize",
        "test_two_genome_versions_side_by_side",
    },
    "store.test_store_crash": {
        "test_ctrl_c_during_a_load_leaves_no_process_and_a_clean_store",
        "test_forked_workers_do_not_keep_the_store_locked",
        "test_kill_9_at_random_moments_leaves_the_old_build",
        "test_readers_see_the_old_build_or_the_new_never_a_mix",
    },
    "test_docs": {
        "test_console_sessions_run_as_written",
    },
}


def mark(item: pytest.Item) -> None:
    """Add the markers of ``item`` (a test collected from tests/)."""
    module = getattr(item, "module", None)
    if module is None or not module.__name__.startswith("tests."):
        return
    name = module.__name__.removeprefix("tests.")
    if name.startswith("pipeline."):
        item.add_marker(pytest.mark.pipeline)
    if name == "server.test_server_page":
        item.add_marker(pytest.mark.browser)
    slow = SLOW.get(name, ())
    if slow == "*" or getattr(item, "originalname", item.name) in slow:
        item.add_marker(pytest.mark.slow)
