with

members as (

    select * from {{ ref('stg_members') }}

),

profiles as (

    select * from {{ ref('int_shopper_profiles') }}

),

visits as (

    select * from {{ ref('fct_visits') }}

),

activity as (

    select
        shopper_id,
        count(*) as visits,
        count(distinct store_id) as stores_visited,
        count(*) filter (where has_purchase) as purchases,
        cast(sum(receipt_total_krw) as bigint) as spend_krw,
        min(entered_at) as first_visit_at,
        max(entered_at) as last_visit_at,

    from visits
    group by shopper_id

),

final as (

    select
        members.member_id as shopper_id,
        profiles.age_band,
        profiles.gender,
        profiles.demographic_source,
        members.home_store_id,
        coalesce(activity.visits, 0) as visits,
        coalesce(activity.stores_visited, 0) as stores_visited,
        coalesce(activity.purchases, 0) as purchases,
        coalesce(activity.spend_krw, 0) as spend_krw,
        activity.first_visit_at,
        activity.last_visit_at,

    from members
    inner join profiles on members.member_id = profiles.shopper_id
    left join activity on members.member_id = activity.shopper_id

)

select * from final
