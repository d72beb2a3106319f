with

metric_catalogue as (

    select * from {{ ref('metric_catalogue') }}

),

final as (

    select
        cast(metric_id as string) as metric_id,
        cast(title as string) as title,
        cast(description as string) as description,
        cast(domain as string) as domain,
        cast(unit as string) as unit,
        cast(unit_multiplier as double) as unit_multiplier,
        cast(improvement_direction as string) as improvement_direction,
        cast(source_family as string) as source_family,
        cast(sources as string) as sources,
        cast(numerator_definition as string) as numerator_definition,
        cast(denominator_definition as string) as denominator_definition,
        cast(reporting_frequency as string) as reporting_frequency,
        cast(target as double) as target,  -- noqa: RF04
        cast(red_line as double) as red_line,
        cast(min_denominator as double) as min_denominator,
        cast(funnel_type as string) as funnel_type,
        cast(overdispersion_method as string) as overdispersion_method,
        cast(version as integer) as version,
        cast(valid_from as date) as valid_from,
        cast(base_metric_id as string) as base_metric_id
    from metric_catalogue

)

select * from final
