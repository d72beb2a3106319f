{#
    Below the exempt level no published count lies in the suppressed range and every one is a
    multiple of the rounding base; a suppressed row shows the marker and no value. Read against the
    disclosure_control seed, so a build that publishes an uncontrolled figure fails here.
#}
with

rules as (

    select * from {{ ref('disclosure_control') }}

),

published_rows as (

    select
        'metric_values' as table_name,
        metric_id,
        org_level,
        org_code,
        period_type,
        period_start,
        numerator,
        denominator,
        value,
        value_display,
        is_suppressed
    from {{ ref('published_metric_values') }}

    union all

    select
        'metric_values_by_deprivation' as table_name,
        metric_id,
        org_level,
        org_code,
        period_type,
        period_start,
        numerator,
        denominator,
        value,
        value_display,
        is_suppressed
    from {{ ref('published_metric_values_by_deprivation') }}

    union all

    select
        'metric_values_by_ethnicity' as table_name,
        metric_id,
        org_level,
        org_code,
        period_type,
        period_start,
        numerator,
        denominator,
        value,
        value_display,
        is_suppressed
    from {{ ref('published_metric_values_by_ethnicity') }}

),

final as (

    select published_rows.*
    from published_rows
    cross join rules
    where
        published_rows.org_level != rules.exempt_org_level
        and (
            published_rows.numerator between rules.suppress_from and rules.suppress_to
            or published_rows.denominator between rules.suppress_from and rules.suppress_to
            or published_rows.numerator % rules.rounding_base != 0
            or published_rows.denominator % rules.rounding_base != 0
        )
        or published_rows.is_suppressed
        and (published_rows.value is not null or published_rows.value_display != rules.suppression_marker)

)

select * from final
