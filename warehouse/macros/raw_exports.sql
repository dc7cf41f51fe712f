{#
    The daily exports, FEATURE and USER, share their file columns (METRICS.md section 1).
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

