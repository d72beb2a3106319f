{#
    marts.data_quality_results as published, column by column: a column added to the mart is not
    published until it is listed and described here. It holds one row per check per landed file
    (rows checked and failed, no row-level data), so no disclosure control applies.
#}
with

data_quality_results as (

    select * from {{ ref('data_quality_results') }}

),

final as (

    select
        source,
        table_name,
        source_family,
        source_file,
        file_period,
        contract_version,
        check_name,
        column_name,
        category,
        severity,
        rows_checked,
        rows_failed,
        failure_rate,
        status,
        loaded_at,
        is_critical_failure
    from data_quality_results

)

select * from final
