{#
    metric_values_by_deprivation as BI users may see it: every count below national level under
    disclosure control (seeds/disclosure_control.csv), values and intervals recomputed from the
    controlled figures, complementary suppression within each quintile (macros/disclosure_control.sql).
#}
with

{{ publish_metric_values(ref('metric_values_by_deprivation'), cell_keys=['imd_quintile']) }},

final as (

    select
        {{ published_metric_columns('cell_values', extra_keys=['imd_quintile']) }}
    from cell_values
    cross join rules
    {{ join_latest_complete_periods('cell_values') }}

)

select * from final
