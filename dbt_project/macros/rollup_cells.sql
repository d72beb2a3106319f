{#
    The join condition of two relations holding the same rolled-up cell: metric, organisation view,
    organisation, period and deprivation quintile (an empty quintile matching an empty one), all
    quintiles or one. One definition for the joins of int_metric_observations_rolled_up.
#}
{% macro same_rolled_up_cell(left, right) -%}
    {{ left }}.metric_id = {{ right }}.metric_id
    and {{ left }}.org_view = {{ right }}.org_view
    and {{ left }}.org_code = {{ right }}.org_code
    and {{ left }}.period_type = {{ right }}.period_type
    and {{ left }}.period_start = {{ right }}.period_start
    and {{ left }}.imd_quintile is not distinct from {{ right }}.imd_quintile
    and {{ left }}.is_all_quintiles = {{ right }}.is_all_quintiles
{%- endmacro %}
