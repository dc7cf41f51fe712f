{#
    The daily exports, FEATURE and USER, share their file columns, their quarantine
    reasons and their dedup (METRICS.md sections 1, 2 and 4); only the key differs: the
    organisation for FEATURE, the user for USER.
#}

{# The file columns of a staged export row, cast, with the raw text kept for the quarantine record. #}
{% macro raw_export_file_columns() -%}
    {{ raw_to_text('EXPORT_DATE') }} as export_date_text,
    {{ raw_to_date('EXPORT_DATE') }} as export_date,
    {{ raw_to_text('FILENAME') }} as filename,
    {{ raw_to_text('FILE_ROW_NO') }} as file_row_no_text,
    {{ raw_to_bigint('FILE_ROW_NO') }} as file_row_no,
    {{ raw_to_text('FILE_LOADED_DAY') }} as file_loaded_day_text,
    {{ raw_to_date('FILE_LOADED_DAY') }} as file_loaded_day
{%- endmacro %}


{#
    Why a staged export row is quarantined, the first reason that applies (null when
    none): invalid_json -> missing_key (one of `key_columns` is null) -> unparseable_date
    (EXPORT_DATE or FILE_LOADED_DAY).
#}
{% macro export_quarantine_reason(key_columns) -%}
    case
        when not is_valid_json then 'invalid_json'
        when {{ key_columns | join(' is null or ') }} is null then 'missing_key'
        when export_date is null or file_loaded_day is null then 'unparseable_date'
    end
{%- endmacro %}


{#
    The raw record of a quarantined export row (null for the others); `payload_text` is
    the expression standing for PAYLOAD (USER rows pass it through redact_personal_keys).
#}
{% macro quarantined_export_record(payload_text='payload_text') -%}
    {{ quarantined_raw_record([
        ('EXPORT_DATE', 'export_date_text'),
        ('FILENAME', 'filename'),
        ('FILE_ROW_NO', 'file_row_no_text'),
        ('FILE_LOADED_DAY', 'file_loaded_day_text'),
        ('PAYLOAD', payload_text),
    ]) }}
{%- endmacro %}


{#
    The export dedup: a row's rank among the rows of its `key_column` and EXPORT_DATE;
    rank 1 is kept. Quarantined rows rank only among themselves, so the dedup never
    chooses one. Latest FILE_LOADED_DAY, then greatest FILENAME, then greatest
    FILE_ROW_NO (one that is not a number sorts last), then the last read.
#}
{% macro export_dedup_rank(key_column) -%}
    row_number() over (
        partition by quarantine_reason is null, {{ key_column }}, export_date
        order by
            file_loaded_day desc,
            filename desc nulls last,
            file_row_no desc nulls last,
            source_file_id desc nulls last,
            source_row desc nulls last
    )
{%- endmacro %}
