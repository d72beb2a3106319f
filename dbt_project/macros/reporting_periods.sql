{% macro months_per_period(reporting_frequency) %}
    {#- Months one row of a metric covers, from its catalogue reporting_frequency: a quarterly
        return's row sits on its quarter's first month and covers three, an annual one's on April
        and covers the financial year (contracts' SourceTable.months_per_file for their files). -#}
    case {{ reporting_frequency }}
        when 'quarterly' then 3
        when 'annual' then 12
        else 1
    end
{%- endmacro %}
