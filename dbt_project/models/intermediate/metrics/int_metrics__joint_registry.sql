{#
    Revisions and PROMs are attributed to the trust, month and patient deprivation of the primary
    procedure, as the registry does. A procedure counts towards the revision rate only once its 365
    days have passed by the last procedure date in the data; until then its month has a zero
    denominator. Satisfaction counts questionnaires that answered the question. The mean Oxford
    score gain is not additive, so its observations are in int_metric_observations.
#}
with

procedures as (

    select * from {{ ref('stg_joint_registry__procedures') }}

),

revisions as (

    select * from {{ ref('stg_joint_registry__revisions') }}

),

proms as (

    select * from {{ ref('stg_joint_registry__proms') }}

),

data_extent as (

    select max(procedure_date) as last_procedure_date
    from procedures

),

first_revisions as (

    select
        primary_procedure_id,
        min(revision_date) as first_revision_date
    from revisions
    group by primary_procedure_id

),

answered_satisfaction as (

    select
        procedure_id,
        case
            when post_op_satisfaction in ('excellent', 'very_good', 'good') then 1 else 0
        end as is_satisfied
    from proms
    where post_op_satisfaction is not null

),

procedures_flagged as (

    select
        procedures.trust_code,
        procedures.procedure_month_date as period_start,
        procedures.imd_quintile,
        case
            when {{ dbt.dateadd('day', 365, 'procedures.procedure_date') }} <= data_extent.last_procedure_date
                then 1
            else 0
        end as has_1_year_follow_up,
        case
            when
                {{ dbt.datediff('procedures.procedure_date', 'first_revisions.first_revision_date', 'day') }}
                <= 365
                then 1
            else 0
        end as is_revised_within_1_year,
        case when answered_satisfaction.procedure_id is not null then 1 else 0 end as has_satisfaction,
        coalesce(answered_satisfaction.is_satisfied, 0) as is_satisfied
    from procedures
    cross join data_extent
    left join first_revisions
        on procedures.procedure_id = first_revisions.primary_procedure_id
    left join answered_satisfaction
        on procedures.procedure_id = answered_satisfaction.procedure_id

),

trust_months as (

    select
        trust_code,
        period_start,
        imd_quintile,
        sum(has_1_year_follow_up) as followed_up_count,
        sum(has_1_year_follow_up * is_revised_within_1_year) as revised_within_1_year_count,
        sum(has_satisfaction) as satisfaction_answered_count,
        sum(is_satisfied) as satisfied_count
    from procedures_flagged
    group by
        trust_code,
        period_start,
        imd_quintile

),

metric_rows as (

    select
        'revision_within_1y' as metric_id,
        trust_code,
        period_start,
        imd_quintile,
        revised_within_1_year_count as numerator,
        followed_up_count as denominator
    from trust_months

    union all

    select
        'proms_satisfaction' as metric_id,
        trust_code,
        period_start,
        imd_quintile,
        satisfied_count as numerator,
        satisfaction_answered_count as denominator
    from trust_months

),

final as (

    select
        cast(metric_id as string) as metric_id,
        cast(trust_code as string) as trust_code,
        cast(period_start as date) as period_start,
        cast(imd_quintile as integer) as imd_quintile,
        cast(numerator as double) as numerator,
        cast(denominator as double) as denominator
    from metric_rows

)

select * from final
