/**
 * Built-in PostgreSQL functions a read may call: pure computations and catalog lookups. Anything
 * else is refused, including every user-defined or extension function (a PL/pgSQL function can run
 * any statement) and built-ins with effects: pg_sleep, set_config, nextval/setval, advisory locks,
 * txid_current, pg_notify, lo_*, file access (pg_read_file, pg_ls_dir), backend signalling,
 * dblink, and the ones that run a query given as text (query_to_xml, table_to_xml, ts_stat).
 */
export const POSTGRES_READ_FUNCTIONS: ReadonlySet<string> = new Set([
  // aggregates
  'array_agg', 'avg', 'bit_and', 'bit_or', 'bit_xor', 'bool_and', 'bool_or', 'count', 'every', 'json_agg', 'jsonb_agg',
  'json_agg_strict', 'jsonb_agg_strict', 'json_object_agg', 'jsonb_object_agg', 'json_object_agg_strict', 'jsonb_object_agg_strict',
  'json_object_agg_unique', 'jsonb_object_agg_unique', 'max', 'min', 'range_agg', 'range_intersect_agg', 'string_agg', 'sum', 'xmlagg',
  'any_value', 'corr', 'covar_pop', 'covar_samp', 'regr_avgx', 'regr_avgy', 'regr_count', 'regr_intercept', 'regr_r2', 'regr_slope',
  'regr_sxx', 'regr_sxy', 'regr_syy', 'stddev', 'stddev_pop', 'stddev_samp', 'variance', 'var_pop', 'var_samp', 'mode',
  'percentile_cont', 'percentile_disc', 'grouping',
  // window functions
  'row_number', 'rank', 'dense_rank', 'percent_rank', 'cume_dist', 'ntile', 'lag', 'lead', 'first_value', 'last_value', 'nth_value',
  // math
  'abs', 'cbrt', 'ceil', 'ceiling', 'degrees', 'div', 'exp', 'factorial', 'floor', 'gcd', 'lcm', 'ln', 'log', 'log10', 'min_scale', 'mod',
  'pi', 'power', 'pow', 'radians', 'round', 'scale', 'sign', 'sqrt', 'trim_scale', 'trunc', 'width_bucket', 'random', 'random_normal',
  'acos', 'acosd', 'asin', 'asind', 'atan', 'atand', 'atan2', 'atan2d', 'cos', 'cosd', 'cot', 'cotd', 'sin', 'sind', 'tan', 'tand',
  'sinh', 'cosh', 'tanh', 'asinh', 'acosh', 'atanh', 'erf', 'erfc',
  // strings
  'ascii', 'bit_length', 'btrim', 'char_length', 'character_length', 'chr', 'concat', 'concat_ws', 'convert', 'convert_from', 'convert_to',
  'decode', 'encode', 'format', 'initcap', 'left', 'length', 'lower', 'lpad', 'ltrim', 'md5', 'normalize', 'is_normalized',
  'octet_length', 'overlay', 'parse_ident', 'position', 'quote_ident', 'quote_literal', 'quote_nullable', 'regexp_count', 'regexp_instr',
  'regexp_like', 'regexp_match', 'regexp_matches', 'regexp_replace', 'regexp_split_to_array', 'regexp_split_to_table', 'regexp_substr',
  'repeat', 'replace', 'reverse', 'right', 'rpad', 'rtrim', 'split_part', 'starts_with', 'string_to_array', 'string_to_table', 'strpos',
  'substr', 'substring', 'to_ascii', 'to_hex', 'to_bin', 'to_oct', 'translate', 'unistr', 'upper', 'casefold', 'similar_to_escape',
  'sha224', 'sha256', 'sha384', 'sha512', 'crc32', 'crc32c', 'get_bit', 'get_byte', 'set_bit', 'set_byte', 'bit_count', 'text', 'textlen',
  'pg_collation_for', 'array_to_string', 'like_escape', 'similar_escape',
  // formatting
  'to_char', 'to_date', 'to_number', 'to_timestamp',
  // dates and times
  'age', 'clock_timestamp', 'current_date', 'date_add', 'date_bin', 'date_part', 'date_subtract', 'date_trunc', 'extract', 'isfinite',
  'justify_days', 'justify_hours', 'justify_interval', 'make_date', 'make_interval', 'make_time', 'make_timestamp', 'make_timestamptz',
  'now', 'statement_timestamp', 'timeofday', 'transaction_timestamp', 'timezone', 'overlaps',
  // conditionals and comparisons
  'num_nonnulls', 'num_nulls',
  // arrays and ranges
  'array_append', 'array_cat', 'array_dims', 'array_fill', 'array_length', 'array_lower', 'array_ndims', 'array_position',
  'array_positions', 'array_prepend', 'array_remove', 'array_replace', 'array_sample', 'array_shuffle', 'array_upper', 'cardinality',
  'trim_array', 'unnest', 'generate_series', 'generate_subscripts', 'lower_inc', 'upper_inc', 'lower_inf', 'upper_inf', 'isempty',
  'range_merge', 'multirange', 'int4range', 'int8range', 'numrange', 'tsrange', 'tstzrange', 'daterange',
  // JSON
  'to_json', 'to_jsonb', 'array_to_json', 'row_to_json', 'json_build_array', 'jsonb_build_array', 'json_build_object', 'jsonb_build_object',
  'json_object', 'jsonb_object', 'json_array_length', 'jsonb_array_length', 'json_each', 'jsonb_each', 'json_each_text', 'jsonb_each_text',
  'json_extract_path', 'jsonb_extract_path', 'json_extract_path_text', 'jsonb_extract_path_text', 'json_object_keys', 'jsonb_object_keys',
  'json_populate_record', 'jsonb_populate_record', 'jsonb_populate_record_valid', 'json_populate_recordset', 'jsonb_populate_recordset',
  'json_array_elements', 'jsonb_array_elements', 'json_array_elements_text', 'jsonb_array_elements_text', 'json_typeof', 'jsonb_typeof',
  'json_to_record', 'jsonb_to_record', 'json_to_recordset', 'jsonb_to_recordset', 'json_strip_nulls', 'jsonb_strip_nulls', 'jsonb_set',
  'jsonb_set_lax', 'jsonb_insert', 'jsonb_pretty', 'jsonb_path_exists', 'jsonb_path_match', 'jsonb_path_query', 'jsonb_path_query_array',
  'jsonb_path_query_first', 'jsonb_path_exists_tz', 'jsonb_path_match_tz', 'jsonb_path_query_tz', 'jsonb_path_query_array_tz',
  'jsonb_path_query_first_tz', 'jsonb_concat', 'jsonb_contains', 'jsonb_exists',
  // XML values (not the *_to_xml family, which runs a query given as text)
  'xmlcomment', 'xmlconcat', 'xmltext', 'xpath', 'xpath_exists', 'xml_is_well_formed', 'xml_is_well_formed_document',
  'xml_is_well_formed_content',
  // text search over values (not ts_stat, which runs a query given as text)
  'to_tsvector', 'to_tsquery', 'plainto_tsquery', 'phraseto_tsquery', 'websearch_to_tsquery', 'ts_rank', 'ts_rank_cd', 'ts_headline',
  'setweight', 'strip', 'numnode', 'querytree', 'array_to_tsvector', 'tsvector_to_array', 'ts_delete', 'ts_filter', 'get_current_ts_config',
  // network, uuid, geometry values
  'host', 'hostmask', 'masklen', 'netmask', 'network', 'broadcast', 'family', 'abbrev', 'set_masklen', 'inet_same_family', 'inet_merge',
  'gen_random_uuid', 'uuidv4', 'uuid_extract_timestamp', 'uuid_extract_version', 'area', 'center', 'diameter', 'height', 'width', 'radius',
  'point', 'box', 'circle', 'line', 'lseg', 'path', 'polygon', 'npoints', 'isclosed', 'isopen',
  // session and catalog information (reads only)
  'current_database', 'current_catalog', 'current_schema', 'current_schemas', 'current_user', 'current_role', 'session_user', 'user',
  'system_user', 'current_setting', 'current_query', 'inet_client_addr', 'inet_client_port', 'inet_server_addr', 'inet_server_port',
  'pg_backend_pid', 'pg_postmaster_start_time', 'pg_conf_load_time', 'pg_is_in_recovery', 'version', 'pg_typeof', 'pg_column_size',
  'pg_column_compression', 'pg_database_size', 'pg_relation_size', 'pg_table_size', 'pg_indexes_size', 'pg_total_relation_size',
  'pg_size_pretty', 'pg_size_bytes', 'format_type', 'to_regclass', 'to_regtype', 'to_regproc', 'to_regprocedure', 'to_regnamespace',
  'to_regrole', 'to_regtypemod', 'pg_get_viewdef', 'pg_get_indexdef', 'pg_get_constraintdef', 'pg_get_expr', 'pg_get_functiondef',
  'pg_get_function_arguments', 'pg_get_function_result', 'pg_get_function_identity_arguments', 'pg_get_triggerdef', 'pg_get_ruledef',
  'pg_get_serial_sequence', 'pg_get_userbyid', 'pg_get_keywords', 'pg_table_is_visible', 'pg_type_is_visible', 'pg_function_is_visible',
  'obj_description', 'col_description', 'shobj_description', 'has_table_privilege', 'has_column_privilege', 'has_schema_privilege',
  'has_database_privilege', 'has_function_privilege', 'has_sequence_privilege', 'pg_has_role', 'row_security_active',
  'pg_encoding_to_char', 'pg_char_to_encoding', 'pg_client_encoding', 'pg_jit_available', 'pg_input_is_valid', 'pg_input_error_info',
]);
